{{/* Names and labels. */}}
{{- define "alaya.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "alaya.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* selector labels of one component: (dict "ctx" $ "component" "worker") */}}
{{- define "alaya.selector" -}}
app.kubernetes.io/name: {{ .ctx.Chart.Name }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "alaya.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* NATS URLs, as the operator gives them. */}}
{{- define "alaya.natsURLs" -}}
{{- .Values.natsConnection.urls | toJson -}}
{{- end -}}

{{/*
The config file of one process, (dict "ctx" $ "role" "receiver"|"worker"): the operator's
config with everything the chart decides (addresses, mounted paths, NATS) laid over it. Each
role is given only the secret files it reads.
*/}}
{{- define "alaya.config" -}}
{{- $v := .ctx.Values -}}
{{- $c := deepCopy ($v.config | default dict) -}}
{{- $recv := dict "listen" (printf ":%d" (int $v.receiver.port)) "link_key_file" "/etc/alaya/secrets/link-key" -}}
{{- /* Both roles: the worker validates the page settings it shares (page_url goes into notes). */ -}}
{{- if $v.receiver.pagePort }}{{ $_ := set $recv "page_listen" (printf ":%d" (int $v.receiver.pagePort)) }}{{ end -}}
{{- if eq .role "receiver" -}}
{{- $_ := set $recv "webhook_secrets_file" "/etc/alaya/secrets/webhook-secrets" -}}
{{- $_ := set $recv "admin_listen" (printf ":%d" (int $v.receiver.adminPort)) -}}
{{- end -}}
{{- $_ := set $c "receiver" (mergeOverwrite (get $c "receiver" | default dict) $recv) -}}
{{- $work := dict "listen" (printf ":%d" (int $v.worker.port)) "runbooks" "/etc/alaya/runbooks" "inventory" (printf "/etc/alaya/inventory/%s" $v.inventory.key) "concurrency" (int $v.worker.concurrency) "shutdown_grace" (printf "%ds" (int $v.worker.shutdownGraceSeconds)) -}}
{{- $_ := set $c "worker" (mergeOverwrite (get $c "worker" | default dict) $work) -}}
{{- $_ := set $c "pagerduty" (mergeOverwrite (get $c "pagerduty" | default dict) (dict "token_file" "/etc/alaya/secrets/pagerduty-token")) -}}
{{- $nats := dict "urls" (include "alaya.natsURLs" .ctx | fromJsonArray) "prefix" $v.natsConnection.prefix "replicas" (int $v.natsConnection.replicas) -}}
{{- if $v.natsConnection.stream }}{{ $_ := set $nats "stream" $v.natsConnection.stream }}{{ end -}}
{{- if $v.natsConnection.credentialsSecret }}{{ $_ := set $nats "credentials" "/etc/alaya/nats/nats.creds" }}{{ end -}}
{{- $_ := set $nats "inbox_prefix" (get $v.natsConnection.inboxPrefixes .role) -}}
{{- if $v.natsConnection.tls.enabled -}}
{{- $tls := dict "ca_file" "/etc/alaya/nats-tls/ca.crt" "cert_file" "/etc/alaya/nats-tls/tls.crt" "key_file" "/etc/alaya/nats-tls/tls.key" -}}
{{- if $v.natsConnection.tls.serverName }}{{ $_ := set $tls "server_name" $v.natsConnection.tls.serverName }}{{ end -}}
{{- $_ := set $nats "tls" $tls -}}
{{- end -}}
{{- $_ := set $c "nats" (mergeOverwrite (get $c "nats" | default dict) $nats) -}}
{{- toYaml $c -}}
{{- end -}}

{{/* Secret files of one role, as projected volume sources. */}}
{{- define "alaya.secretSources" -}}
{{- $v := .ctx.Values -}}
- secret:
    name: {{ $v.secrets.pagerduty.name }}
    items: [{key: {{ $v.secrets.pagerduty.key | quote }}, path: pagerduty-token}]
- secret:
    name: {{ $v.secrets.linkKey.name }}
    items: [{key: {{ $v.secrets.linkKey.key | quote }}, path: link-key}]
{{- if eq .role "receiver" }}
- secret:
    name: {{ $v.secrets.webhook.name }}
    items: [{key: {{ $v.secrets.webhook.key | quote }}, path: webhook-secrets}]
{{- end }}
{{- end -}}

{{/* The hardened security context every container runs with. */}}
{{- define "alaya.containerSecurity" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}
