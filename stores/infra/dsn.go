package infra

import (
	"errors"
	"net"
	"net/url"
	"strings"
)

// errDSN never quotes the DSN: it may hold a password.
var errDSN = errors.New("postgres dsn is neither a postgres:// URL nor libpq key=value pairs")

// postgresURL turns a libpq DSN, URL or key=value form, into a postgres://
// target (statescope tells targets from paths by "://") without its
// password, which is returned apart for PGPASSWORD.
func postgresURL(dsn string) (target, password string, err error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", "", errDSN // url.Error would repeat the DSN
		}
		if u.User != nil {
			password, _ = u.User.Password()
			u.User = url.User(u.User.Username())
			if u.User.Username() == "" {
				u.User = nil
			}
		}
		if q := u.Query(); q.Has("password") {
			password = q.Get("password")
			q.Del("password")
			u.RawQuery = q.Encode()
		}
		return u.String(), password, nil
	}
	pairs, err := parseKeywords(dsn)
	if err != nil {
		return "", "", err
	}
	u := url.URL{Scheme: "postgres"}
	q := url.Values{}
	var host, port string
	for _, kv := range pairs {
		switch k, v := kv[0], kv[1]; k {
		case "password":
			password = v
		case "user":
			u.User = url.User(v)
		case "dbname":
			u.Path = "/" + v
		case "host":
			host = v
		case "port":
			port = v
		default:
			q.Set(k, v)
		}
	}
	// One TCP host goes in the authority; a socket directory or a host
	// list stays a parameter, which libpq and pgx accept in URLs too.
	switch {
	case host != "" && !strings.HasPrefix(host, "/") && !strings.Contains(host+port, ","):
		u.Host = host
		if port != "" {
			u.Host = net.JoinHostPort(host, port)
		}
	default:
		if host != "" {
			q.Set("host", host)
		}
		if port != "" {
			q.Set("port", port)
		}
	}
	u.RawQuery = q.Encode()
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String(), password, nil
}

// parseKeywords reads libpq's key = value form: values bare (backslash
// escapes the next character) or single-quoted (\' and \\ inside).
func parseKeywords(s string) ([][2]string, error) {
	var out [][2]string
	i := 0
	skipSpace := func() {
		for i < len(s) && strings.IndexByte(" \t\n\r\f\v", s[i]) >= 0 {
			i++
		}
	}
	for {
		skipSpace()
		if i == len(s) {
			return out, nil
		}
		start := i
		for i < len(s) && s[i] != '=' && strings.IndexByte(" \t\n\r\f\v", s[i]) < 0 {
			i++
		}
		key := s[start:i]
		skipSpace()
		if key == "" || i == len(s) || s[i] != '=' {
			return nil, errDSN
		}
		i++
		skipSpace()
		var val strings.Builder
		if i < len(s) && s[i] == '\'' {
			i++
			for ; i < len(s) && s[i] != '\''; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				val.WriteByte(s[i])
			}
			if i == len(s) {
				return nil, errDSN // unterminated quote
			}
			i++
		} else {
			for ; i < len(s) && strings.IndexByte(" \t\n\r\f\v", s[i]) < 0; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				val.WriteByte(s[i])
			}
		}
		out = append(out, [2]string{key, val.String()})
	}
}
