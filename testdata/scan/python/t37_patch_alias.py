from assay.integrations.openai import patch as p
p()
client.chat.completions.create()
