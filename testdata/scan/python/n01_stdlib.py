import json, os
json.loads("1")
os.path.join("a")
print("x")
