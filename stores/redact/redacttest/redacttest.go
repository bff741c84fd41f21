// Package redacttest holds one example of every masking rule, and a record
// carrying them all at every depth, for tests proving that a path which shows
// state (CLI, TUI, audit log) masks each rule — not just a password.
package redacttest

import (
	"fmt"
	"strings"

	"statescope/stores"
)

// Case is one example of one rule.
type Case struct {
	Rule  string // the rule, as it reads in the reference pattern
	Key   string // a key name only that rule matches
	Value string // a value only that rule matches (value rules)
}

// SecretKeys has an example key name for each secret-key rule, each matched
// by that rule alone (redact's tests check this against the reference
// pattern), in mixed case.
var SecretKeys = []Case{
	{Rule: "passw(or)?d|passwd", Key: "dbPassword"},
	{Rule: "pwd", Key: "Root_PWD_hash"},
	{Rule: "secret", Key: "clientSecret"},
	{Rule: "token", Key: "refreshToken"},
	{Rule: "api[_-]?key", Key: "apiKeyId"},
	{Rule: "access[_-]?key", Key: "Access-Key-ID"},
	{Rule: "private", Key: "privateData"},
	{Rule: "credential", Key: "Credentials"},
	{Rule: "connection[_-]?str", Key: "connectionString"},
	{Rule: "conn[_-]?str", Key: "CONN_STR"},
	{Rule: "dsn", Key: "readerDsn"},
	{Rule: "auth", Key: "AuthHeader"},
	{Rule: "cert(ificate)?[_-]?key", Key: "certificateKeyPem"},
	{Rule: "signing", Key: "signingMaterial"},
	{Rule: "session[_-]?key", Key: "sessionKeyId"},
	{Rule: "^key$", Key: "Key"},
	{Rule: "[_-]key$", Key: "SSH-Key"},
	{Rule: "sas", Key: "sasUrl"},
}

// SecretValues has an example for each secret-value rule, under key names
// no key rule matches.
var SecretValues = []Case{
	{Rule: "URL with a password", Key: "url", Value: "postgres://app:Pw-in-url-1@db:5432/app"},
	{Rule: "URL with a password", Key: "Broker", Value: "amqps://mq-user:Pw-in-url-2@mq.internal/vhost"},
	{Rule: "PEM private key", Key: "tls", Value: pem("RSA PRIVATE KEY", "MIIEpemRSA")},
	{Rule: "PEM private key", Key: "Pem", Value: pem("PRIVATE KEY", "MIIEpemPKCS8")},
	{Rule: "PEM private key", Key: "Identity", Value: pem("OPENSSH PRIVATE KEY", "b3BlbnNzaOpenSSH")},
	{Rule: "PEM private key", Key: "ecdsa", Value: pem("EC PRIVATE KEY", "MHcCAQEEpemEC")},
}

// Plain values that must stay visible: look-alikes of the rules.
var Plain = map[string]any{
	"endpoint": "https://db.internal:5432/app", // a URL without a password
	"keyspace": "orders",                       // "key" not at the end
	"monkey":   "banana",                       // "key" without a separator
	"Region":   "eu-west-1",
	"cert":     "-----BEGIN CERTIFICATE-----\nMIIBpublic\n-----END CERTIFICATE-----",
}

func pem(kind, body string) string {
	return "-----BEGIN " + kind + "-----\n" + body + "\n-----END " + kind + "-----"
}

// secret is the plain value stored under the i-th secret key at one place.
func secret(i int, where string) string { return fmt.Sprintf("hunter2-%s-%d-end", where, i) }

// Record returns a record carrying every secret key and value at the top
// level, in a nested map and in a list of maps, in outputs and in config,
// beside the plain look-alikes. Masking it must hide Leaks and keep Plain.
func Record(id string) *stores.State {
	s := &stores.State{
		ResourceID: id, ResourceType: "infra.database", Provider: "aws", Status: stores.StatusActive,
		CreatedAt: "2026-01-02T03:04:05Z", UpdatedAt: "2026-01-02T03:04:06Z",
		Outputs: fill("outputs"), Config: fill("config"),
	}
	return s
}

// Places says where Record puts each example, for Count: every example
// appears this many times.
const Places = 6

func fill(side string) map[string]any {
	top := level(side + "-top")
	top["nested"] = map[string]any{"deeper": level(side + "-nested")}
	top["items"] = []any{"plain", level(side + "-list")}
	return top
}

func level(where string) map[string]any {
	m := map[string]any{}
	for k, v := range Plain {
		m[k] = v
	}
	for i, c := range SecretKeys {
		m[c.Key] = secret(i, where)
	}
	for _, c := range SecretValues {
		m[c.Key] = c.Value
	}
	return m
}

// Masked is how many values redact.Count must report for Record.
func Masked() int { return Places * (len(SecretKeys) + len(SecretValues)) }

// Leaks returns the secrets of Record that appear in text (any JSON, YAML or
// table rendering of it).
func Leaks(text string) []string {
	var found []string
	for _, side := range []string{"outputs", "config"} {
		for _, where := range []string{"-top", "-nested", "-list"} {
			for i, c := range SecretKeys {
				if v := secret(i, side+where); strings.Contains(text, v) {
					found = append(found, c.Rule+" ("+c.Key+"): "+v)
				}
			}
		}
	}
	for _, c := range SecretValues {
		if frag := fragment(c.Value); strings.Contains(text, frag) {
			found = append(found, c.Rule+": "+frag)
		}
	}
	return found
}

// fragment is the part of a secret value that no masking leaves behind:
// the password of a URL, the body of a PEM block.
func fragment(v string) string {
	if i := strings.Index(v, "\n"); i >= 0 {
		return strings.SplitN(v[i+1:], "\n", 2)[0]
	}
	at := strings.LastIndex(v, "@")
	return v[strings.LastIndex(v[:at], ":")+1 : at]
}
