package main

// No LLM SDK is imported: look-alike chains are not call sites.
type fake struct {
	Chat struct{ Completions struct{ New func() } }
}

func main() {
	var client fake
	client.Chat.Completions.New()
	db.Messages.New()
}
