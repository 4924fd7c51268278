{{/* Names, labels and the pieces every Kura container shares. */}}

{{- define "kura.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kura.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The StatefulSet's name; its pods are "<this>-0", "<this>-1", ... */}}
{{- define "kura.store.fullname" -}}
{{- printf "%s-store" (include "kura.fullname" .) | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{- define "kura.store.headless" -}}
{{- printf "%s-headless" (include "kura.store.fullname" .) -}}
{{- end -}}

{{- define "kura.receive.fullname" -}}
{{- printf "%s-receive" (include "kura.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kura.query.fullname" -}}
{{- printf "%s-query" (include "kura.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kura.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kura.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "kura.storageClassName" -}}
{{- if .Values.store.storage.storageClassName -}}
{{- .Values.store.storage.storageClassName -}}
{{- else if .Values.storageClass.create -}}
{{- default (printf "%s-gp3" (include "kura.fullname" .)) .Values.storageClass.name -}}
{{- end -}}
{{- end -}}

{{- define "kura.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Labels of every object; call with (dict "root" $ "component" "store"). */}}
{{- define "kura.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "kura.selectorLabels" . }}
app.kubernetes.io/version: {{ default .root.Chart.AppVersion .root.Values.image.tag | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: kura
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
Labels of pod templates: no chart version, so upgrading the chart alone restarts no pod.
Call with (dict "root" $ "component" "store").
*/}}
{{- define "kura.podLabels" -}}
{{ include "kura.selectorLabels" . }}
app.kubernetes.io/version: {{ default .root.Chart.AppVersion .root.Values.image.tag | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: kura
{{- end -}}

{{/* The labels selectors use: they never change over a release's life. */}}
{{- define "kura.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kura.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end -}}

{{/*
The storage nodes as receivers and queriers are told them (--store.nodes): one per-pod DNS name
per StatefulSet replica, or the headless Service's name for DNS discovery. Never a ClusterIP:
a client must see every node to notice a dead one at once.
*/}}
{{- define "kura.storeNodes" -}}
{{- $suffix := ternary (printf ".%s" .Values.clusterDomain) "" (ne .Values.clusterDomain "") -}}
{{- $headless := include "kura.store.headless" . -}}
{{- $port := int .Values.store.ports.grpc -}}
{{- if eq .Values.store.discovery "dns" -}}
{{- printf "dns+%s.%s.svc%s:%d" $headless .Release.Namespace $suffix $port -}}
{{- else if eq .Values.store.discovery "pods" -}}
{{- $sts := include "kura.store.fullname" . -}}
{{- $nodes := list -}}
{{- range $i := until (int .Values.store.replicas) -}}
{{- $nodes = append $nodes (printf "%s-%d.%s.%s.svc%s:%d" $sts $i $headless $.Release.Namespace $suffix $port) -}}
{{- end -}}
{{- join "," $nodes -}}
{{- else -}}
{{- fail (printf "store.discovery must be \"pods\" or \"dns\", not %q" .Values.store.discovery) -}}
{{- end -}}
{{- end -}}

{{/*
Resources with the memory limit equal to the request (a pod is never killed for using what
it asked for, and never overcommits a node) and no CPU limit unless one is set (throttling
under a limit stalls writes while the node has idle cores). Call with (dict "name" "store"
"resources" .Values.store.resources).
*/}}
{{- define "kura.resources" -}}
{{- $requests := required (printf "%s.resources.requests is required" .name) .resources.requests -}}
{{- $cpu := required (printf "%s.resources.requests.cpu is required" .name) $requests.cpu -}}
{{- $memory := required (printf "%s.resources.requests.memory is required" .name) $requests.memory -}}
{{- $limits := default dict .resources.limits -}}
{{- if and $limits.memory (ne (toString $limits.memory) (toString $memory)) -}}
{{- fail (printf "%s.resources.limits.memory (%v) must equal requests.memory (%v)" .name $limits.memory $memory) -}}
{{- end -}}
requests:
  cpu: {{ $cpu | quote }}
  memory: {{ $memory | quote }}
limits:
  {{- if $limits.cpu }}
  cpu: {{ $limits.cpu | quote }}
  {{- end }}
  memory: {{ $memory | quote }}
{{- end -}}

{{/*
preStop: wait while endpoints and clients drop the pod, then Kubernetes sends SIGTERM and Kura
drains. Call with (dict "root" $ "seconds" N).
*/}}
{{- define "kura.preStop" -}}
preStop:
{{- if eq .root.Values.preStopMode "sleep" }}
  sleep:
    seconds: {{ int .seconds }}
{{- else if eq .root.Values.preStopMode "exec" }}
  exec:
    command: ["/bin/sleep", "{{ int .seconds }}"]
{{- else }}
{{- fail (printf "preStopMode must be \"sleep\" or \"exec\", not %q" .root.Values.preStopMode) }}
{{- end }}
{{- end -}}

{{/*
The grace period covers the whole shutdown: the preStop sleep, Kura's drain delay (still
serving while clients move away), its drain timeout (in-flight work) and the flush.
Call with a role's values.
*/}}
{{- define "kura.terminationGracePeriodSeconds" -}}
{{- add (int .preStopSleepSeconds) (int .drain.delaySeconds) (int .drain.timeoutSeconds) (int .flushSeconds) -}}
{{- end -}}

{{/* Flags every role takes. Call with (dict "root" $ "role" .Values.store "port" N). */}}
{{- define "kura.commonArgs" -}}
- --http.listen-address=:{{ int .port }}
- --log.level={{ .root.Values.logLevel }}
- --drain.delay={{ int .role.drain.delaySeconds }}s
- --drain.timeout={{ int .role.drain.timeoutSeconds }}s
{{- end -}}

{{- define "kura.httpProbe" -}}
httpGet:
  path: {{ .path }}
  port: http
periodSeconds: {{ int .probe.periodSeconds }}
failureThreshold: {{ int .probe.failureThreshold }}
timeoutSeconds: {{ int .probe.timeoutSeconds }}
{{- end -}}
