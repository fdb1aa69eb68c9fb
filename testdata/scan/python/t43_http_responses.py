http.responses.create()
