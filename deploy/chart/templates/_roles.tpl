{{/* Role-specific flags of the stateless roles; call with the root context. */}}

{{- define "kura.receive.args" -}}
{{- $r := .Values.receive -}}
- receive
{{ include "kura.commonArgs" (dict "root" . "role" $r "port" $r.port) }}
- --store.nodes={{ include "kura.storeNodes" . }}
- --replication.factor={{ int $r.replicationFactor }}
- --store.timeout={{ $r.storeTimeout }}
- --store.dns-refresh-interval={{ $r.storeDnsRefreshInterval }}
- --store.max-in-flight-bytes={{ $r.maxInFlightBytes }}
- --remote-write.labels-cache-size={{ $r.labelsCacheSize }}
{{- with $r.extraArgs }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "kura.query.args" -}}
{{- $q := .Values.query -}}
- query
{{ include "kura.commonArgs" (dict "root" . "role" $q "port" $q.port) }}
- --store.nodes={{ include "kura.storeNodes" . }}
- --store.timeout={{ $q.storeTimeout }}
- --store.dns-refresh-interval={{ $q.storeDnsRefreshInterval }}
- --query.partial-response={{ $q.partialResponse }}
- --query.timeout={{ $q.timeout }}
- --query.max-samples={{ int64 $q.maxSamples }}
- --query.lookback-delta={{ $q.lookbackDelta }}
- --query.decode-threads={{ int $q.decodeThreads }}
{{- with $q.enableFeatures }}
- --enable-feature={{ join "," . }}
{{- end }}
{{- with $q.extraArgs }}
{{ toYaml . }}
{{- end }}
{{- end -}}
