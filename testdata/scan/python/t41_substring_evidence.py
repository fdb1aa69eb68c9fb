import my_emit_receipt_helpers
client.chat.completions.create()
