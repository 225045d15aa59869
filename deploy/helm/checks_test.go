package helm

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"maps"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/alaya-sre/alaya/config"
	"github.com/alaya-sre/alaya/internal/yamlfile"
)

func (m *manifests) deployment(t *testing.T, name string) *appsv1.Deployment {
	t.Helper()
	d := m.deployments[name]
	if d == nil {
		t.Fatalf("no Deployment %s (have %v)", name, slices.Sorted(maps.Keys(m.deployments)))
	}
	return d
}

// renderedConfig loads one process's config file from the chart's ConfigMap with Alaya's own
// loader, as the pod would: strict keys, defaults, validation and the role's own checks. The
// mounted secret files are stood in for by temporary ones through the environment overrides.
func (m *manifests) renderedConfig(t *testing.T, role string) *config.Config {
	t.Helper()
	cm := m.configMaps["rel-alaya-config"]
	if cm == nil {
		t.Fatal("no ConfigMap rel-alaya-config")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, role+".yaml")
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(path, []byte(cm.Data[role+".yaml"]), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(secret, []byte("a-stand-in-secret-long-enough-for-every-secret-alaya-reads\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, k := range []string{"ALAYA_PAGERDUTY_TOKEN_FILE", "ALAYA_RECEIVER_LINK_KEY_FILE", "ALAYA_RECEIVER_WEBHOOK_SECRETS_FILE"} {
		env[k] = secret
	}
	if m.rawConfig(t, role).NATS.Credentials != "" {
		env["ALAYA_NATS_CREDENTIALS"] = secret
	}
	if m.rawConfig(t, role).NATS.TLS.CertFile != "" {
		cert, key := selfSigned(t, dir)
		env["ALAYA_NATS_TLS_CA_FILE"], env["ALAYA_NATS_TLS_CERT_FILE"], env["ALAYA_NATS_TLS_KEY_FILE"] = cert, cert, key
	}
	c, err := config.Load(path, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("rendered %s.yaml does not load: %v\n%s", role, err, cm.Data[role+".yaml"])
	}
	check := c.CheckWorker
	if role == "receiver" {
		check = c.CheckReceiver
	}
	if err := check(); err != nil {
		t.Fatalf("rendered %s.yaml: %v", role, err)
	}
	return c
}

// rawConfig is the file as written, before defaults, environment and secret files.
func (m *manifests) rawConfig(t *testing.T, role string) *config.Config {
	t.Helper()
	var c config.Config
	if _, err := yamlfile.Decode(role+".yaml", []byte(m.configMaps["rel-alaya-config"].Data[role+".yaml"]), &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

func checkWorker(t *testing.T, m *manifests) {
	d := m.deployment(t, "rel-alaya-worker")
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		t.Errorf("worker replicas %v, want at least 2", d.Spec.Replicas)
	}
	grace := m.renderedConfig(t, "worker").Worker.ShutdownGrace
	pod := d.Spec.Template.Spec
	if pod.TerminationGracePeriodSeconds == nil || time.Duration(*pod.TerminationGracePeriodSeconds)*time.Second <= grace {
		t.Errorf("terminationGracePeriodSeconds %v is not longer than worker.shutdown_grace %v", pod.TerminationGracePeriodSeconds, grace)
	}
	pdb := m.pdbs["rel-alaya-worker"]
	if pdb == nil || !selects(pdb.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
		t.Errorf("no PodDisruptionBudget selecting the workers")
	}
	checkPodHardened(t, "worker", pod)
	mounts := mountPaths(pod.Containers[0])
	for _, want := range []string{"/etc/alaya/runbooks", "/etc/alaya/inventory", "/etc/alaya/worker.yaml"} {
		if !slices.Contains(mounts, want) {
			t.Errorf("worker mounts %v, missing %s", mounts, want)
		}
	}
}

func checkReceiver(t *testing.T, m *manifests) {
	d := m.deployment(t, "rel-alaya-receiver")
	checkPodHardened(t, "receiver", d.Spec.Template.Spec)
	svc := m.services["rel-alaya-receiver"]
	if svc == nil {
		t.Fatal("no receiver Service")
	}
	c := m.renderedConfig(t, "receiver")
	ports := map[string]int32{}
	for _, p := range svc.Spec.Ports {
		ports[p.Name] = p.Port
	}
	if ports["webhook"] == 0 || ":"+strconv.Itoa(int(ports["webhook"])) != c.Receiver.Listen {
		t.Errorf("service ports %v do not match receiver.listen %q", ports, c.Receiver.Listen)
	}
	if p, ok := ports["page"]; ok && p == ports["webhook"] {
		t.Errorf("approval page shares the webhook port %d", p)
	}
	if _, ok := ports["admin"]; ok {
		t.Errorf("the admin port is exposed on the webhook Service: %v", ports)
	}
	admin := m.services["rel-alaya-receiver-admin"]
	if admin == nil || len(admin.Spec.Ports) != 1 || ":"+strconv.Itoa(int(admin.Spec.Ports[0].Port)) != c.Receiver.AdminListen {
		t.Errorf("admin Service %v does not match receiver.admin_listen %q", admin, c.Receiver.AdminListen)
	}
	ctr := d.Spec.Template.Spec.Containers[0]
	if p := ctr.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Port.String() != "admin" {
		t.Errorf("readiness probe %+v is not on the admin port, where /readyz is served", p)
	}
}

func checkConfigs(t *testing.T, m *manifests) {
	r, w := m.renderedConfig(t, "receiver"), m.renderedConfig(t, "worker")
	if m.rawConfig(t, "receiver").Receiver.WebhookSecretsFile == "" {
		t.Error("receiver config has no webhook_secrets_file: the receiver would refuse to start")
	}
	if m.rawConfig(t, "worker").Receiver.WebhookSecretsFile != "" {
		t.Error("worker config names the webhook secret: the worker does not need it")
	}
	if len(r.NATS.URLs) == 0 || !slices.Equal(r.NATS.URLs, w.NATS.URLs) || r.NATS.Stream != w.NATS.Stream || r.NATS.Prefix != w.NATS.Prefix {
		t.Errorf("receiver and worker disagree on NATS: %v %q / %v %q", r.NATS.URLs, r.NATS.Stream, w.NATS.URLs, w.NATS.Stream)
	}
}

// checkSecretsAreReferencesOnly: the chart renders no Secret, and the config files hold file
// paths, never secret values.
func checkSecretsAreReferencesOnly(t *testing.T, m *manifests) {
	for name, s := range m.secrets {
		if s.Labels["app.kubernetes.io/name"] == "alaya" {
			t.Errorf("the chart renders Secret %s; secrets must come from existing Secrets", name)
		}
	}
	for _, role := range []string{"receiver", "worker"} {
		if len(m.rawConfig(t, role).Secrets()) != 0 {
			t.Errorf("%s config holds secret values inline", role)
		}
	}
}

func checkPodHardened(t *testing.T, name string, pod corev1.PodSpec) {
	t.Helper()
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Errorf("%s pod may run as root", name)
	}
	for _, c := range pod.Containers {
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("%s container %s is not hardened: %+v", name, c.Name, sc)
		}
	}
}

func mountPaths(c corev1.Container) []string {
	var out []string
	for _, v := range c.VolumeMounts {
		out = append(out, v.MountPath)
	}
	return out
}

func selects(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return len(selector) > 0
}

// selfSigned writes a throwaway certificate and key, standing in for a mounted TLS Secret.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "alaya-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	for f, b := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "PRIVATE KEY", Bytes: kder}} {
		if err := os.WriteFile(f, pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile
}
