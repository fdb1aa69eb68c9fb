from assay.integrations.openai import patch
client.chat.completions.create()
