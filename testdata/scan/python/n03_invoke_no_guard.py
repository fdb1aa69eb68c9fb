something.invoke({"a": 1})
