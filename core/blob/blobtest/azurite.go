package blobtest

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// Azurite's well-known development account (public, in Azure's docs).
const (
	AzuriteAccount = "devstoreaccount1"
	AzuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// Azure is a running Azurite blob service (the npm package, installed by
// scripts/setup.d/47-azurite.sh; in memory, telemetry off) behind a
// loopback proxy that can hold uploads, reached by Azure's storage client
// through gocloud's azureblob.
type Azure struct {
	Host      string // 127.0.0.1:PORT (the proxy)
	Container string
	Stalled   chan string
}

// AzureOptions shape the emulator's failures.
type AzureOptions struct {
	// Stall, when set, is called with each upload's blob name (a PUT of
	// a block or a blob); for one it returns true, the proxy takes the
	// body, signals Stalled and holds the request until the client goes
	// away (for SIGKILL tests).
	Stall func(name string) bool
}

var listensRe = regexp.MustCompile(`successfully listens on (http://127\.0\.0\.1:\d+)`)

// StartAzurite runs Azurite with one container until the test ends. A
// missing install fails the test, saying how to install it.
func StartAzurite(t testing.TB, containerName string, opt AzureOptions) *Azure {
	t.Helper()
	bin := filepath.Join(moduleRoot(t), "testdata", "azurite", "node_modules", ".bin", "azurite-blob")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("Azurite is not installed (%v): run scripts/setup.d/47-azurite.sh", err)
	}
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", "0", "--inMemoryPersistence",
		"--disableTelemetry", "--skipApiVersionCheck", "--silent")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	cmd.Dir = t.TempDir()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Azurite: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listensRe.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	var backend string
	select {
	case backend = <-found:
	case <-time.After(2 * time.Minute):
		t.Fatal("Azurite did not start listening within 2 minutes")
	}
	target, _ := url.Parse(backend)
	a := &Azure{Container: containerName, Stalled: make(chan string, 16)}
	proxy := httputil.NewSingleHostReverseProxy(target)
	prefix := "/" + AzuriteAccount + "/" + containerName + "/"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if opt.Stall != nil && r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, prefix) {
			if name := strings.TrimPrefix(r.URL.Path, prefix); opt.Stall(name) {
				if _, err := io.Copy(io.Discard, r.Body); err != nil {
					return
				}
				a.Stalled <- name
				<-r.Context().Done()
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	a.Host = strings.TrimPrefix(srv.URL, "http://")

	cred, err := azblob.NewSharedKeyCredential(AzuriteAccount, AzuriteKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := container.NewClientWithSharedKeyCredential(srv.URL+"/"+AzuriteAccount+"/"+containerName, cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.Create(ctx, nil); err != nil {
		t.Fatalf("creating the Azurite container: %v", err)
	}
	return a
}

// moduleRoot is the directory holding go.mod, above the working directory.
func moduleRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// URL is the azblob:// URL of prefix in the container.
func (a *Azure) URL(prefix string) string {
	return "azblob://" + a.Container + "/" + strings.TrimPrefix(prefix, "/")
}

// Env is the environment a client of this emulator needs.
func (a *Azure) Env() []string {
	return []string{"AZURE_STORAGE_ACCOUNT=" + AzuriteAccount, "AZURE_STORAGE_KEY=" + AzuriteKey,
		"AZURE_STORAGE_DOMAIN=" + a.Host, "AZURE_STORAGE_PROTOCOL=http", "AZURE_STORAGE_IS_LOCAL_EMULATOR=true"}
}

// Getenv reads Env (for blob.Options.Getenv).
func (a *Azure) Getenv(k string) string {
	for _, kv := range a.Env() {
		if strings.HasPrefix(kv, k+"=") {
			return kv[len(k)+1:]
		}
	}
	return ""
}
