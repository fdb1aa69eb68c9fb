from assay import emit_receipt
client.chat.completions.create()
