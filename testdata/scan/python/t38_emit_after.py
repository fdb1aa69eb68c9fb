import assay
client.chat.completions.create()
assay.emit_receipt("model_call", {})
