from assay.integrations import litellm
litellm.completion(model="x")
