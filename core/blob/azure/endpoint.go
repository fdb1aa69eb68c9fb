package azure

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// AllowedDomains are the blob domains an Endpoint may name (gocloud's
// azureblob allows the same ones): Azure's public, government, China and
// Germany clouds. Anything else only for a local emulator.
var AllowedDomains = map[string]bool{
	"blob.core.windows.net":       true,
	"blob.core.usgovcloudapi.net": true,
	"blob.core.chinacloudapi.cn":  true,
	"blob.core.cloudapi.de":       true,
}

// Endpoint names an account's blob service the way gocloud's azureblob
// ServiceURLOptions do (and the AZURE_STORAGE_* variables they read).
type Endpoint struct {
	Account       string
	Domain        string // default blob.core.windows.net
	Protocol      string // https (default); http only for a local emulator
	CDN           bool   // the domain is a CDN in front of the account
	LocalEmulator bool   // path-style PROTOCOL://DOMAIN/ACCOUNT on a loopback host
}

// ServiceURL is the endpoint's base URL, checked as azureblob checks it.
func (e Endpoint) ServiceURL() (string, error) {
	if e.Account == "" {
		return "", errors.New("no storage account name")
	}
	for _, r := range e.Account {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return "", fmt.Errorf("storage account name %q has a character other than a letter or digit", e.Account)
		}
	}
	domain := strings.ToLower(e.Domain)
	if domain == "" {
		domain = "blob.core.windows.net"
	}
	protocol := strings.ToLower(e.Protocol)
	if protocol == "" {
		protocol = "https"
	}
	switch protocol {
	case "http":
		if !e.LocalEmulator {
			return "", fmt.Errorf("protocol http is only allowed for a local emulator")
		}
		if err := loopback(domain); err != nil {
			return "", err
		}
	case "https":
		if e.LocalEmulator {
			return "", fmt.Errorf("protocol https is not allowed for a local emulator")
		}
		if !AllowedDomains[domain] {
			return "", fmt.Errorf("domain %q is not an Azure storage domain", domain)
		}
	default:
		return "", fmt.Errorf("invalid protocol %q", protocol)
	}
	switch {
	case e.LocalEmulator:
		return protocol + "://" + domain + "/" + e.Account, nil
	case e.CDN:
		return protocol + "://" + domain, nil
	}
	return protocol + "://" + e.Account + "." + domain, nil
}

// loopback accepts localhost names and loopback addresses, with a numeric
// port or none.
func loopback(domain string) error {
	host := domain
	if h, port, err := net.SplitHostPort(domain); err == nil {
		host = h
		if port == "" || strings.Trim(port, "0123456789") != "" {
			return fmt.Errorf("local emulator domain %q: the port must be numeric", domain)
		}
	} else {
		host = strings.Trim(host, "[]")
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return fmt.Errorf("local emulator domain %q is not a loopback host", domain)
	}
	return nil
}

// ConnString is a parsed storage connection string.
type ConnString struct {
	ServiceURL string
	Account    string
	Key        []byte
	SAS        string
}

// ParseConnectionString reads a storage connection string as Azure's SDK
// does (AccountName with AccountKey, or SharedAccessSignature; BlobEndpoint
// or DefaultEndpointsProtocol and EndpointSuffix). Errors never quote it:
// it holds the key.
func ParseConnectionString(s string) (ConnString, error) {
	m := map[string]string{}
	for _, part := range strings.Split(strings.TrimRight(s, ";"), ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return ConnString{}, errors.New("the connection string is not KEY=VALUE pairs separated by ';'")
		}
		m[k] = v
	}
	protocol := m["DefaultEndpointsProtocol"]
	if protocol == "" {
		protocol = "https"
	}
	suffix := m["EndpointSuffix"]
	if suffix == "" {
		suffix = "core.windows.net"
	}
	c := ConnString{Account: m["AccountName"]}
	switch {
	case m["BlobEndpoint"] != "":
		c.ServiceURL = strings.TrimSuffix(m["BlobEndpoint"], "/")
	case c.Account != "":
		c.ServiceURL = protocol + "://" + c.Account + ".blob." + suffix
	default:
		return ConnString{}, errors.New("the connection string needs AccountName or BlobEndpoint")
	}
	switch key, sas := m["AccountKey"], m["SharedAccessSignature"]; {
	case c.Account != "" && key != "":
		k, err := base64.StdEncoding.DecodeString(key)
		if err != nil {
			return ConnString{}, errors.New("the connection string's AccountKey is not base64")
		}
		c.Key = k
	case sas != "":
		c.SAS = sas
	default:
		return ConnString{}, errors.New("the connection string needs AccountKey or SharedAccessSignature")
	}
	return c, nil
}
