import assay_capture  # assay:patched
client.chat.completions.create()
