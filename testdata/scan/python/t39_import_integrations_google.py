import assay.integrations.google
model.generate_content("x")
