package s3

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"statescope/stores"
)

// DefaultPrefix is the key prefix upstream uses when none is configured.
const DefaultPrefix = "iac-state/"

// maxParallel caps parallel=N: far past it a server only queues requests.
const maxParallel = 256

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

var knownParams = []string{"endpoint", "parallel", "region"}

// ParseTarget reads s3://bucket/prefix?region=R&endpoint=URL&parallel=N or
// spaces://bucket/prefix?region=nyc3. The path after the bucket is the
// prefix, verbatim; an empty one gets the default, as upstream defaults an
// empty prefix. Errors never repeat a credential the target might carry.
func ParseTarget(t stores.Target) (Config, error) {
	shown := redactTarget(t.Raw)
	bad := func(format string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("%s target %q: %s", t.Scheme, shown, fmt.Sprintf(format, args...))
	}
	u := t.URL
	if u == nil || (t.Scheme != "s3" && t.Scheme != "spaces") {
		return bad("not an s3:// or spaces:// target")
	}
	if u.User != nil || u.Port() != "" || u.Hostname() == "" {
		return bad("want %s://bucket/prefix: the bucket name goes where the host is", t.Scheme)
	}
	c := Config{Scheme: t.Scheme, Bucket: u.Hostname(), Prefix: strings.TrimPrefix(u.Path, "/"), Parallel: stores.DefaultParallelism}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	q := u.Query()
	var unknown []string
	for k, vals := range q {
		if !slices.Contains(knownParams, k) {
			unknown = append(unknown, k)
		} else if len(vals) > 1 {
			return bad("%s is given %d times", k, len(vals))
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return bad("unknown parameter %s (accepted: %s; credentials come from the environment, never the target)",
			strings.Join(unknown, ", "), strings.Join(knownParams, ", "))
	}
	c.Region = q.Get("region")
	if p := q.Get("parallel"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > maxParallel {
			return bad("parallel=%s: want a whole number from 1 to %d", p, maxParallel)
		}
		c.Parallel = n
	}
	if e := q.Get("endpoint"); e != "" {
		eu, err := url.Parse(e)
		if err != nil || (eu.Scheme != "http" && eu.Scheme != "https") || eu.Host == "" {
			return bad("endpoint must be an http:// or https:// URL")
		}
		if eu.User != nil {
			return bad("endpoint must not carry credentials")
		}
		c.Endpoint = strings.TrimSuffix(eu.String(), "/")
	}
	if c.Region == "" && c.Endpoint == "" {
		return bad("region or endpoint is required, e.g. ?region=%s", map[string]string{"s3": "us-east-1", "spaces": "nyc3"}[c.Scheme])
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
