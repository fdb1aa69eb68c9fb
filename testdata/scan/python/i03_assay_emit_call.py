client.messages.create()
_assay_emit("x")
