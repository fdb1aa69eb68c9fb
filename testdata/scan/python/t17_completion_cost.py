import litellm
litellm.completion_cost(r)
