{{/* Labels every object carries. */}}
{{- define "cauce.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: cauce
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}

{{/* Selector labels of one workload: (dict "root" $ "name" "gateway"). */}}
{{- define "cauce.selector" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end }}

{{/* A cauce image: (dict "root" $ "package" "cauce-gateway"). */}}
{{- define "cauce.image" -}}
{{ .root.Values.image.registry }}/{{ .package }}:{{ .root.Values.image.tag }}
{{- end }}

{{/* Pod security context of cauce's own images (uid 10001). */}}
{{- define "cauce.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Container security context: (dict "uid" 10001). */}}
{{- define "cauce.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end }}

{{/* Pod security context of a third-party image running as uid: (dict "uid" 999). */}}
{{- define "cauce.podSecurityContextFor" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
fsGroup: {{ .uid }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Egress to the cluster DNS. */}}
{{- define "cauce.dnsEgress" -}}
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ .Values.networkPolicy.dns.namespace }}
      podSelector:
        matchLabels:
          {{- toYaml .Values.networkPolicy.dns.podLabels | nindent 10 }}
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end }}

{{/* The Secret volume every cauce pod mounts at CAUCE_SECRETS_DIR: (dict "root" $ "secret" "gateway-secrets"). */}}
{{- define "cauce.secretsVolume" -}}
- name: secrets
  projected:
    defaultMode: 0440
    sources:
      - secret:
          name: {{ .root.Values.commonSecretName }}
      {{- if .secret }}
      - secret:
          name: {{ .secret }}
      {{- end }}
{{- end }}

{{/* The NATS authorization block (JSON): nats.auth.users (user -> public NKEY) with
each user's permissions from files/bus-permissions.json, and nats.auth.admins. */}}
{{- define "cauce.natsAuthorization" -}}
{{- $permissions := .Files.Get "files/bus-permissions.json" | fromJson -}}
{{- $users := list -}}
{{- range $user, $key := .Values.nats.auth.users -}}
{{- if not (hasKey $permissions $user) -}}
{{- fail (printf "nats.auth.users: no bus access declared for %q" $user) -}}
{{- end -}}
{{- $users = append $users (dict "nkey" $key "permissions" (get $permissions $user)) -}}
{{- end -}}
{{- range .Values.nats.auth.admins -}}
{{- $users = append $users (dict "nkey" .) -}}
{{- end -}}
{{- dict "users" $users | toJson -}}
{{- end -}}

{{/* The CA volume of NATS's certificate, for the services (nats.tls.secretName). */}}
{{- define "cauce.natsCaVolume" -}}
{{- if .Values.nats.tls.secretName }}
- name: nats-ca
  secret:
    secretName: {{ .Values.nats.tls.secretName }}
    defaultMode: 0444
    items:
      - key: ca.crt
        path: ca.crt
{{- end }}
{{- end -}}
