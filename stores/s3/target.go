package s3

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"statescope/stores"
	"statescope/stores/objectstore"
)

// DefaultPrefix is the key prefix upstream uses when none is configured.
const DefaultPrefix = objectstore.DefaultPrefix

// usage is each scheme's form, for the registry and for errors.
var usage = map[string]string{
	"s3":     "s3://bucket/prefix?region=R&endpoint=URL&parallel=N",
	"spaces": "spaces://bucket/prefix?region=nyc3&endpoint=URL&parallel=N",
}

// Config says which bucket and prefix to read and how to reach them.
type Config struct {
	// Scheme is "s3" or "spaces"; it picks the defaults and names the store.
	Scheme string
	Bucket string
	// Prefix is put verbatim before every key: "state" gives "statefoo.json".
	// Open takes it as it is, so "" is the bucket's root.
	Prefix string
	// Region is the configured region; SigningRegion says what signs.
	Region string
	// Endpoint is the service URL; empty means AWS's own for the region.
	Endpoint string
	// Parallel is how many records a listing fetches at once.
	Parallel int
	// Credentials replaces the default credential sources when set.
	Credentials aws.CredentialsProvider
}

// SigningRegion is the region requests are signed for: the configured one,
// or us-east-1 as upstream does when only an endpoint is given.
func (c Config) SigningRegion() string {
	if c.Region != "" {
		return c.Region
	}
	return "us-east-1"
}

// ParseTarget reads s3://bucket/prefix?region=R&endpoint=URL&parallel=N or
// spaces://bucket/prefix?region=nyc3. The bucket, prefix and parallelism
// follow the rules every object store shares (objectstore.ParseTarget);
// region or endpoint is required, and Spaces derives its endpoint from the
// region. Errors never repeat a credential the target might carry.
func ParseTarget(t stores.Target) (Config, error) {
	form, ok := usage[t.Scheme]
	if !ok || t.URL == nil {
		return Config{}, fmt.Errorf("%q is not an s3:// or spaces:// target", stores.RedactTarget(t.Raw))
	}
	bad := func(format string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("%s target %q: %s; use %s", t.Scheme, redactTarget(t.Raw), fmt.Sprintf(format, args...), form)
	}
	// Checked first: the shared parser's errors would show the endpoint whole.
	endpoint := t.URL.Query().Get("endpoint")
	if e, err := url.Parse(endpoint); err != nil || e.User != nil {
		return bad("endpoint must be a URL without credentials")
	}
	if t.URL.Port() != "" {
		return bad("a bucket name has no port; the server goes in endpoint=")
	}
	tgt, err := objectstore.ParseTarget(t, form, "region", "endpoint")
	if err != nil {
		return Config{}, err
	}
	c := Config{Scheme: t.Scheme, Bucket: tgt.Bucket, Prefix: tgt.Prefix, Parallel: tgt.Parallel, Region: tgt.Query.Get("region")}
	if endpoint != "" {
		e, _ := url.Parse(endpoint)
		if (e.Scheme != "http" && e.Scheme != "https") || e.Host == "" {
			return bad("endpoint must be an http:// or https:// URL")
		}
		c.Endpoint = strings.TrimRight(e.String(), "/")
	}
	if c.Region == "" && c.Endpoint == "" {
		return bad("region or endpoint is required")
	}
	if c.Scheme == "spaces" && c.Endpoint == "" {
		c.Endpoint = "https://" + c.Region + ".digitaloceanspaces.com"
	}
	return c, nil
}

// redactTarget is stores.RedactTarget plus the user info of an endpoint
// URL, which it does not look inside.
func redactTarget(raw string) string {
	shown := stores.RedactTarget(raw)
	u, err := url.Parse(shown)
	if err != nil {
		return shown
	}
	q := u.Query()
	e, err := url.Parse(q.Get("endpoint"))
	if err != nil || e.User == nil {
		return shown
	}
	e.User = url.User("xxxxx")
	q.Set("endpoint", e.String())
	u.RawQuery = q.Encode()
	return u.String()
}
