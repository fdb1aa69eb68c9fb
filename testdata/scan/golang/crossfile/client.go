package agent

import (
	"net/http"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"
	"github.com/assay-dev/assay/core/capture"
)

type Agent struct {
	llm anthropic.Client
}

func httpClient() *http.Client {
	hc, _ := capture.NewClient(capture.Options{})
	return hc
}

func New() *Agent {
	return &Agent{llm: anthropic.NewClient(option.WithHTTPClient(httpClient()))}
}
