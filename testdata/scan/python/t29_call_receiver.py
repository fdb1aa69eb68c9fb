get_client().chat.completions.create()
