package azblob

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
)

// Auth is how requests are signed. The zero value uses the SDK's default
// credential chain (environment, workload identity, managed identity, Azure
// CLI…).
type Auth struct {
	// Account and Key: shared-key signing, as upstream's account_name and
	// account_key.
	Account, Key string
	// SAS is a shared access signature query string, without the '?'.
	SAS string
}

func (a Auth) String() string {
	switch {
	case a.Key != "":
		return "shared key, account " + a.Account
	case a.SAS != "":
		return "SAS token"
	default:
		return "default Azure credential chain"
	}
}

// secrets lists the values that must never reach an error message.
func (a Auth) secrets() []string {
	var out []string
	for _, s := range []string{a.Key, a.SAS} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// sasSignature matches a SAS signature wherever an error quotes a URL.
var sasSignature = regexp.MustCompile(`(?i)(sig=)[^&\s"']+`)

// redact removes credentials from text bound for an error message.
func (a Auth) redact(text string) string {
	for _, s := range a.secrets() {
		text = strings.ReplaceAll(text, s, "xxxxx")
	}
	return sasSignature.ReplaceAllString(text, "${1}xxxxx")
}

// Environment variables, the names the Azure CLI and SDKs use.
const (
	envAccount          = "AZURE_STORAGE_ACCOUNT"
	envKey              = "AZURE_STORAGE_KEY"
	envConnectionString = "AZURE_STORAGE_CONNECTION_STRING"
)

// fromEnvironment completes cfg from the environment: a shared key from
// AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY, else whatever
// AZURE_STORAGE_CONNECTION_STRING holds, else the default credential chain.
// The account URL, when the target gives none, comes from the connection
// string's endpoint or AZURE_STORAGE_ACCOUNT.
func fromEnvironment(cfg Config) (Config, error) {
	account, key := os.Getenv(envAccount), os.Getenv(envKey)
	var cs connectionString
	if raw := os.Getenv(envConnectionString); raw != "" {
		var err error
		if cs, err = parseConnectionString(raw); err != nil {
			return Config{}, fmt.Errorf("%s: %w", envConnectionString, err)
		}
	}
	switch {
	case account != "" && key != "":
		cfg.Auth = Auth{Account: account, Key: key}
	case cs.key != "" || cs.sas != "":
		cfg.Auth = Auth{Account: cs.account, Key: cs.key, SAS: cs.sas}
	}
	switch {
	case cfg.AccountURL != "":
	case cs.endpoint != "":
		cfg.AccountURL = cs.endpoint
	case account != "":
		cfg.AccountURL = "https://" + account + ".blob.core.windows.net"
	default:
		return Config{}, fmt.Errorf("no storage account: give ?account_url=https://ACCOUNT.blob.core.windows.net, or set %s or %s", envAccount, envConnectionString)
	}
	return cfg, nil
}

// connectionString is the part of an Azure Storage connection string the
// blob service uses.
type connectionString struct {
	account, key, sas, endpoint string
}

// parseConnectionString reads "Key=Value;…". Errors never quote the
// string: it holds the account key.
func parseConnectionString(raw string) (connectionString, error) {
	fields := map[string]string{}
	for part := range strings.SplitSeq(raw, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return connectionString{}, errors.New("connection string has a field without '='")
		}
		fields[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	cs := connectionString{account: fields["accountname"], key: fields["accountkey"], sas: strings.TrimPrefix(fields["sharedaccesssignature"], "?"), endpoint: fields["blobendpoint"]}
	if strings.EqualFold(fields["usedevelopmentstorage"], "true") {
		return connectionString{}, errors.New("UseDevelopmentStorage=true is not supported: give Azurite's AccountName, AccountKey and BlobEndpoint")
	}
	if cs.endpoint == "" && cs.account != "" {
		proto, suffix := fields["defaultendpointsprotocol"], fields["endpointsuffix"]
		if proto == "" {
			proto = "https"
		}
		if suffix == "" {
			suffix = "core.windows.net"
		}
		cs.endpoint = proto + "://" + cs.account + ".blob." + suffix
	}
	if cs.key != "" && cs.account == "" {
		return connectionString{}, errors.New("connection string has AccountKey but no AccountName")
	}
	if cs.key == "" && cs.sas == "" {
		return connectionString{}, errors.New("connection string has neither AccountKey nor SharedAccessSignature")
	}
	return cs, nil
}

// checkAccountURL accepts an http(s) URL of a blob service with no query
// or user info (credentials go in the environment, not the target).
func checkAccountURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", fmt.Errorf("account_url is not a URL")
	case u.Scheme != "https" && u.Scheme != "http", u.Host == "":
		return "", fmt.Errorf("account_url %q must be https://ACCOUNT.blob.core.windows.net", u.Redacted())
	case u.User != nil, u.RawQuery != "":
		return "", fmt.Errorf("account_url must carry no credentials or query; set %s or %s instead", envKey, envConnectionString)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}
