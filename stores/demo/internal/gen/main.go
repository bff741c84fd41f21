// Command gen writes the demo state directory: about sixty resources in
// workflow's filesystem layout, with every status, a stuck record, a failed
// one, dependencies, secret-looking outputs, a large record, a corrupt file,
// wfctl's metadata.json and three locks. Times are written relative to
// demo.Reference; the demo stamps them relative to now when it starts.
//
//	go generate ./stores/demo
package main

import (
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"statescope/stores"
	"statescope/stores/demo"
)

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: gen DIR")
	}
	dir := os.Args[1]
	if err := os.RemoveAll(dir); err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		log.Fatal(err)
	}
	for _, r := range records() {
		data, err := stores.EncodeState(r)
		if err != nil {
			log.Fatal(err)
		}
		write(dir, stores.ObjectName(r.ResourceID)+".json", data)
	}
	// A record a crash truncated mid-write (the engine's writes are not atomic).
	write(dir, "prod_cache_sessions.json", []byte(`{
  "resource_id": "prod/cache/sessions",
  "resource_type": "infra.cache",
  "provider": "aws",
  "status": "active",
  "outputs": {
    "primary_endpoint": "sessions.abc123.ng.0001.euw1.cache.amazonaws.com",
    "auth_tok`))
	// A record written by wfctl: its file-name rule also replaces ':' and
	// '*', its key order puts config first and it has no error key.
	write(dir, "legacy_db_old.json", []byte(`{
  "resource_id": "legacy:db*old",
  "resource_type": "infra.database",
  "provider": "aws",
  "provider_id": "legacy-db-old",
  "status": "active",
  "config": {
    "engine": "mysql",
    "note": "written by wfctl"
  },
  "outputs": {
    "endpoint": "legacy-db.c1.us-east-1.rds.amazonaws.com"
  },
  "created_at": "`+ts(120*day)+`",
  "updated_at": "`+ts(120*day)+`"
}`))
	write(dir, "metadata.json", []byte(`{"generator_metadata":{"wfctl_version":"0.51.10","plugins":[{"name":"workflow-plugin-aws","version":"2.3.7"},{"name":"workflow-plugin-digitalocean","version":"2.1.8"}]}}`))

	// Two locks left by crashed statescope-recorded holders (orphaned: the
	// demo gives them a pid that is not running on this host) and one fresh
	// lock in workflow's own format (a bare timestamp).
	orphan := func(id, op string, age time.Duration) {
		h := &stores.Holder{Tool: "statescope", User: "deploy", Host: "demo-host", PID: 4242, Operation: op, Since: at(age), Nonce: fmt.Sprintf("%016x", len(id))}
		write(dir, stores.ObjectName(id)+".lock", stores.EncodeLockBody(h))
	}
	orphan("prod/db/orders", "apply", 3*24*time.Hour+2*time.Hour)
	orphan("prod/k8s/main", "apply", 5*time.Hour+12*time.Minute)
	write(dir, stores.ObjectName("staging/dns/api")+".lock", []byte(stores.FormatTime(at(90*time.Second))))
}

func write(dir, name string, data []byte) {
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
		log.Fatal(err)
	}
}

func at(age time.Duration) time.Time { return demo.Reference.Add(-age) }

func ts(age time.Duration) string { return stores.FormatTime(at(age)) }

type spec struct {
	id, typ, provider, status string
	age                       time.Duration
	deps                      []string
	outputs, config           map[string]any
	err                       string
}

const day = 24 * time.Hour

func records() []*stores.State {
	var specs []spec
	providers := []string{"aws", "gcp", "digitalocean", "azure"}
	regions := map[string]string{"aws": "eu-west-1", "gcp": "europe-west1", "digitalocean": "ams3", "azure": "westeurope"}
	for _, env := range []string{"prod", "staging", "dev"} {
		for _, p := range providers[:3] {
			vpc := fmt.Sprintf("%s/vpc/%s", env, p)
			specs = append(specs, spec{id: vpc, typ: "infra.vpc", provider: p, status: "active", age: 40 * day,
				outputs: map[string]any{"vpc_id": fmt.Sprintf("vpc-%s-%s", env, p), "cidr": "10.20.0.0/16", "region": regions[p]},
				config:  map[string]any{"cidr": "10.20.0.0/16", "region": regions[p]}})
		}
	}
	specs = append(specs,
		spec{id: "prod/db/orders", typ: "infra.database", provider: "aws", status: "provisioning", age: 3*day + 2*time.Hour, deps: []string{"prod/vpc/aws"},
			outputs: map[string]any{"endpoint": "orders.cluster-c9x.eu-west-1.rds.amazonaws.com", "port": json.Number("5432")},
			config:  map[string]any{"engine": "postgres", "engine_version": "16.4", "instance_class": "db.r6g.large", "multi_az": true, "storage_gb": json.Number("500")}},
		spec{id: "prod/db/users", typ: "infra.database", provider: "aws", status: "active", age: 12 * day, deps: []string{"prod/vpc/aws"},
			outputs: map[string]any{"endpoint": "users.cluster-c9x.eu-west-1.rds.amazonaws.com", "port": json.Number("5432"), "username": "app", "password": "Xk9#mP2vL8qR", "connection_string": "postgres://app:Xk9#mP2vL8qR@users.cluster-c9x.eu-west-1.rds.amazonaws.com:5432/users"},
			config:  map[string]any{"engine": "postgres", "engine_version": "16.4", "instance_class": "db.r6g.xlarge", "multi_az": true, "storage_gb": json.Number("1000")}},
		spec{id: "prod/db/analytics", typ: "infra.database", provider: "gcp", status: "error", age: 6 * time.Hour, deps: []string{"prod/vpc/gcp"},
			err:     "googleapi: Error 403: Quota 'SSD_TOTAL_GB' exceeded. Limit: 4096.0 in region europe-west1., quotaExceeded",
			outputs: map[string]any{}, config: map[string]any{"tier": "db-custom-8-32768", "disk_size_gb": json.Number("2048"), "disk_type": "PD_SSD"}},
		spec{id: "staging/db/orders", typ: "infra.database", provider: "aws", status: "active", age: 9 * day, deps: []string{"staging/vpc/aws"},
			outputs: map[string]any{"endpoint": "orders.cluster-st1.eu-west-1.rds.amazonaws.com", "port": json.Number("5432"), "password": "st4g1ng-Pw!"},
			config:  map[string]any{"engine": "postgres", "engine_version": "16.4", "instance_class": "db.t4g.medium", "multi_az": false, "storage_gb": json.Number("100")}},
		spec{id: "staging/db/users", typ: "infra.database", provider: "digitalocean", status: "active", age: 20 * day, deps: []string{"staging/vpc/digitalocean"},
			outputs: map[string]any{"host": "db-users-stg-do-user-1234-0.b.db.ondigitalocean.com", "port": json.Number("25060"), "uri": "postgresql://doadmin:AVNS_x1y2z3@db-users-stg-do-user-1234-0.b.db.ondigitalocean.com:25060/defaultdb?sslmode=require"},
			config:  map[string]any{"engine": "pg", "version": "16", "size": "db-s-2vcpu-4gb", "num_nodes": json.Number("1")}},
		spec{id: "dev/db/sandbox", typ: "infra.database", provider: "azure", status: "planned", age: 2 * time.Hour,
			outputs: nil, config: map[string]any{"sku": "GP_Standard_D2s_v3", "version": "16"}},
		spec{id: "prod/k8s/main", typ: "infra.k8s_cluster", provider: "aws", status: "active", age: 5*time.Hour + 12*time.Minute, deps: []string{"prod/vpc/aws"},
			outputs: bigClusterOutputs(), config: map[string]any{"version": "1.31", "node_groups": []any{map[string]any{"name": "general", "instance_type": "m7g.xlarge", "min": json.Number("3"), "max": json.Number("30")}}}},
		spec{id: "staging/k8s/main", typ: "infra.k8s_cluster", provider: "digitalocean", status: "active", age: 15 * day, deps: []string{"staging/vpc/digitalocean"},
			outputs: map[string]any{"cluster_id": "b5f6e0c2-1f6b-4a8c-9d51-5e3b2a9f7c10", "endpoint": "https://b5f6e0c2.k8s.ondigitalocean.com", "kubeconfig_token": "dop_v1_5e3b2a9f7c10b5f6e0c2"},
			config:  map[string]any{"version": "1.31.1-do.3", "node_pool": map[string]any{"size": "s-4vcpu-8gb", "count": json.Number("3")}}},
		spec{id: "dev/k8s/main", typ: "infra.k8s_cluster", provider: "gcp", status: "destroying", age: 4 * time.Minute, deps: []string{"dev/vpc/gcp"},
			outputs: map[string]any{"cluster_name": "dev-main", "endpoint": "34.76.12.9"}, config: map[string]any{"release_channel": "REGULAR", "autopilot": true}},
		spec{id: "dev/k8s/legacy", typ: "infra.k8s_cluster", provider: "aws", status: "destroyed", age: 60 * day,
			outputs: map[string]any{}, config: map[string]any{"version": "1.24"}},
		spec{id: "prod/cache/main", typ: "infra.cache", provider: "aws", status: "active", age: 30 * day, deps: []string{"prod/vpc/aws"},
			outputs: map[string]any{"primary_endpoint": "main.abc123.ng.0001.euw1.cache.amazonaws.com", "port": json.Number("6379"), "auth_token": "c4ch3-t0k3n-9f8e7d"},
			config:  map[string]any{"node_type": "cache.r7g.large", "engine": "redis", "num_cache_clusters": json.Number("2")}},
		spec{id: "staging/cache/main", typ: "infra.cache", provider: "digitalocean", status: "provisioning", age: 3 * time.Minute, deps: []string{"staging/vpc/digitalocean"},
			outputs: nil, config: map[string]any{"engine": "valkey", "size": "db-s-1vcpu-2gb"}},
		spec{id: "dev/cache/main", typ: "infra.cache", provider: "azure", status: "active", age: 8 * day,
			outputs: map[string]any{"hostname": "dev-cache.redis.cache.windows.net", "primary_key": "aZ9kL2mN8pQ4rS6tU0vW="}, config: map[string]any{"sku": "Basic", "capacity": json.Number("1")}},
	)
	for _, b := range []struct{ env, name, p string }{
		{"prod", "assets", "aws"}, {"prod", "backups", "gcp"}, {"prod", "logs", "azure"}, {"staging", "assets", "digitalocean"},
		{"staging", "uploads", "aws"}, {"dev", "scratch", "gcp"}, {"dev", "terraform-migration", "aws"},
	} {
		id := fmt.Sprintf("%s/bucket/%s", b.env, b.name)
		status := "active"
		if b.name == "terraform-migration" {
			status = "destroyed"
		}
		specs = append(specs, spec{id: id, typ: "infra.bucket", provider: b.p, status: status, age: 25 * day,
			outputs: map[string]any{"bucket": fmt.Sprintf("acme-%s-%s", b.env, b.name), "url": fmt.Sprintf("https://acme-%s-%s.storage.example.com", b.env, b.name)},
			config:  map[string]any{"versioning": b.env == "prod", "lifecycle_days": json.Number("90")}})
	}
	for _, d := range []struct{ env, name, p, target string }{
		{"prod", "api", "aws", "prod/lb/api"}, {"prod", "www", "aws", "prod/lb/api"}, {"prod", "status", "digitalocean", ""},
		{"staging", "api", "digitalocean", "staging/lb/api"}, {"staging", "www", "digitalocean", "staging/lb/api"}, {"dev", "api", "gcp", "dev/lb/api"},
	} {
		id := fmt.Sprintf("%s/dns/%s", d.env, d.name)
		var deps []string
		if d.target != "" {
			deps = []string{d.target}
		}
		specs = append(specs, spec{id: id, typ: "infra.dns", provider: d.p, status: "active", age: 18 * day, deps: deps,
			outputs: map[string]any{"fqdn": fmt.Sprintf("%s.%s.acme.example", d.name, d.env), "ttl": json.Number("300")},
			config:  map[string]any{"zone": "acme.example", "type": "CNAME"}})
	}
	for _, env := range []string{"prod", "staging", "dev"} {
		p := map[string]string{"prod": "aws", "staging": "digitalocean", "dev": "gcp"}[env]
		specs = append(specs,
			spec{id: env + "/lb/api", typ: "infra.load_balancer", provider: p, status: "active", age: 22 * day, deps: []string{env + "/k8s/main"},
				outputs: map[string]any{"dns_name": fmt.Sprintf("api-%s-lb.example.net", env), "ip": "203.0.113.10"}, config: map[string]any{"listeners": []any{json.Number("80"), json.Number("443")}}},
			spec{id: env + "/firewall/default", typ: "infra.firewall", provider: p, status: "active", age: 35 * day, deps: []string{env + "/vpc/" + p},
				outputs: map[string]any{"firewall_id": "fw-" + env}, config: map[string]any{"inbound": []any{"443/tcp", "22/tcp from 10.0.0.0/8"}}},
			spec{id: env + "/cert/wildcard", typ: "infra.certificate", provider: p, status: "active", age: 50 * day,
				outputs: map[string]any{"domain": "*." + env + ".acme.example", "not_after": "2027-01-01T00:00:00Z", "private_key": "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIDemoDemoDemoDemoDemoDemoDemoDemoDemoDemoo\n-----END EC PRIVATE KEY-----"},
				config:  map[string]any{"domains": []any{"*." + env + ".acme.example"}}},
		)
	}
	specs = append(specs,
		spec{id: "prod/registry/main", typ: "infra.registry", provider: "digitalocean", status: "active", age: 70 * day,
			outputs: map[string]any{"endpoint": "registry.digitalocean.com/acme", "docker_credentials": `{"auths":{"registry.digitalocean.com":{"auth":"ZG9wX3YxX2RlbW86ZGVtbw=="}}}`},
			config:  map[string]any{"subscription_tier": "professional"}},
		spec{id: "prod/queue/events", typ: "infra.queue", provider: "gcp", status: "active", age: 14 * day,
			outputs: map[string]any{"topic": "projects/acme-prod/topics/events"}, config: map[string]any{"retention": "168h"}},
		spec{id: "staging/queue/events", typ: "infra.queue", provider: "aws", status: "planned", age: 30 * time.Minute,
			outputs: nil, config: map[string]any{"fifo": true}},
		spec{id: "prod/iam/deployer", typ: "infra.iam_role", provider: "aws", status: "active", age: 90 * day,
			outputs: map[string]any{"role_arn": "arn:aws:iam::123456789012:role/deployer", "access_key_id": "AKIADEMO7EXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYDEMOKEY"},
			config:  map[string]any{"policies": []any{"arn:aws:iam::aws:policy/PowerUserAccess"}}},
		spec{id: "azure-app-gateway", typ: "infra.load_balancer", provider: "azure", status: "active", age: 11 * day,
			outputs: map[string]any{"public_ip": "20.50.10.4"}, config: map[string]any{"sku": "WAF_v2"}},
		spec{id: "azure-vnet-shared", typ: "infra.vpc", provider: "azure", status: "active", age: 45 * day,
			outputs: map[string]any{"vnet_id": "/subscriptions/0000/resourceGroups/shared/providers/Microsoft.Network/virtualNetworks/shared"}, config: map[string]any{"address_space": "10.50.0.0/16"}},
		spec{id: "prod/keyvault/main", typ: "infra.secret_store", provider: "azure", status: "active", age: 33 * day,
			outputs: map[string]any{"vault_uri": "https://acme-prod-kv.vault.azure.net/", "client_secret": "Qx8~demo.Secret_9zZ"}, config: map[string]any{"sku": "standard", "soft_delete_days": json.Number("90")}},
		spec{id: "prod/storage/azure-archive", typ: "infra.bucket", provider: "azure", status: "active", age: 64 * day,
			outputs: map[string]any{"account": "acmeprodarchive", "connection_string": "DefaultEndpointsProtocol=https;AccountName=acmeprodarchive;AccountKey=ZGVtb2tleQ==;EndpointSuffix=core.windows.net"},
			config:  map[string]any{"tier": "Archive", "replication": "GRS"}},
		spec{id: "staging/k8s/azure-aks", typ: "infra.k8s_cluster", provider: "azure", status: "planned", age: 45 * time.Minute,
			outputs: nil, config: map[string]any{"version": "1.31", "node_count": json.Number("2")}},
		spec{id: "dev/dns/azure", typ: "infra.dns", provider: "azure", status: "active", age: 7 * day,
			outputs: map[string]any{"fqdn": "azure.dev.acme.example", "ttl": json.Number("60")}, config: map[string]any{"zone": "acme.example", "type": "CNAME"}},
		spec{id: "prod/cdn/edge", typ: "infra.cdn", provider: "gcp", status: "active", age: 19 * day, deps: []string{"prod/bucket/assets", "prod/dns/www"},
			outputs: map[string]any{"ip": "34.120.0.1"}, config: map[string]any{"cache_mode": "CACHE_ALL_STATIC"}},
		spec{id: "staging/dns/api-canary", typ: "infra.dns", provider: "digitalocean", status: "error", age: 26 * time.Hour, deps: []string{"staging/lb/api"},
			err:     "POST https://api.digitalocean.com/v2/domains/acme.example/records: 422 Name already exists with a conflicting record type",
			outputs: nil, config: map[string]any{"zone": "acme.example", "type": "A"}},
	)
	out := make([]*stores.State, 0, len(specs))
	for _, s := range specs {
		r := &stores.State{
			ResourceID: s.id, ResourceType: s.typ, Provider: s.provider, ProviderRef: s.provider,
			Status: s.status, Outputs: s.outputs, Config: s.config, Dependencies: s.deps,
			CreatedAt: ts(s.age + 30*day), UpdatedAt: ts(s.age), Error: s.err,
		}
		if s.status == "active" || s.status == "destroying" {
			r.ProviderID = providerID(s)
		}
		if len(s.config) > 0 {
			r.ConfigHash = fmt.Sprintf("%064x", len(s.id)*7919+len(s.typ))
		}
		out = append(out, r)
	}
	return out
}

func providerID(s spec) string {
	return strings.ReplaceAll(s.id, "/", "-") + "-" + s.provider[:2]
}

// bigClusterOutputs makes the one large record: a cluster with a long node
// inventory, as real cluster outputs sometimes carry.
func bigClusterOutputs() map[string]any {
	nodes := make([]any, 0, 1500)
	for i := range 1500 {
		nodes = append(nodes, map[string]any{
			"name":          fmt.Sprintf("ip-10-20-%d-%d.eu-west-1.compute.internal", i/250, i%250),
			"instance_id":   fmt.Sprintf("i-0%015x", i*104729),
			"instance_type": "m7g.xlarge",
			"zone":          []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}[i%3],
		})
	}
	return map[string]any{
		"cluster_name":    "prod-main",
		"endpoint":        "https://8F2C1D.gr7.eu-west-1.eks.amazonaws.com",
		"oidc_issuer":     "https://oidc.eks.eu-west-1.amazonaws.com/id/8F2C1D",
		"ca_data":         strings.Repeat("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t", 40),
		"node_inventory":  nodes,
		"bootstrap_token": "abcdef.0123456789abcdef",
		"node_group_arns": []any{"arn:aws:eks:eu-west-1:123456789012:nodegroup/prod-main/general/1"},
	}
}
