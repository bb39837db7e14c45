"""The console's words in Spanish (the seeds' users, the default) and English. A small
table rather than gettext catalogues: the console has few strings, and a missing key
shows itself (the key) instead of failing a page."""

from __future__ import annotations

from typing import Literal

Lang = Literal["es", "en"]
LANGS: tuple[Lang, ...] = ("es", "en")

_WORDS: dict[str, tuple[str, str]] = {
    "console": ("Consola cauce", "cauce console"),
    "sign_in": ("Iniciar sesión", "Sign in"),
    "sign_out": ("Cerrar sesión", "Sign out"),
    "email": ("Correo", "E-mail"),
    "password": ("Contraseña", "Password"),
    "wrong_login": ("Correo o contraseña incorrectos", "Wrong e-mail or password"),
    "locked": (
        "Demasiados intentos: espera un momento",
        "Too many attempts: wait a moment",
    ),
    "inbox": ("Bandeja", "Inbox"),
    "all": ("Todos", "All"),
    "mine": ("Míos", "Mine"),
    "unassigned": ("Sin asignar", "Unassigned"),
    "open": ("Abiertos", "Open"),
    "pending": ("Pendientes", "Pending"),
    "snoozed": ("Pospuestos", "Snoozed"),
    "resolved": ("Resueltos", "Resolved"),
    "open_one": ("abierto", "open"),
    "pending_one": ("pendiente", "pending"),
    "snoozed_one": ("pospuesto", "snoozed"),
    "resolved_one": ("resuelto", "resolved"),
    "no_chats": ("No hay conversaciones aquí", "No chats here"),
    "pick_chat": ("Elige una conversación", "Pick a chat"),
    "reply": ("Responder", "Reply"),
    "send": ("Enviar", "Send"),
    "write_reply": ("Escribe una respuesta…", "Write a reply…"),
    "quick_reply": ("Respuesta rápida", "Quick reply"),
    "none": ("ninguna", "none"),
    "note": ("Nota interna", "Private note"),
    "add_note": ("Agregar nota", "Add note"),
    "assign_me": ("Asignarme", "Assign to me"),
    "unassign": ("Liberar", "Unassign"),
    "resolve": ("Resolver", "Resolve"),
    "reopen": ("Reabrir", "Reopen"),
    "snooze": ("Posponer", "Snooze"),
    "snooze_until": ("Posponer hasta", "Snooze until"),
    "until_reply": ("hasta que responda", "until they reply"),
    "pin": ("Fijar", "Pin"),
    "unpin": ("Desfijar", "Unpin"),
    "labels": ("Etiquetas", "Labels"),
    "add_label": ("Agregar etiqueta", "Add label"),
    "attach": ("Adjuntar archivo", "Attach a file"),
    "assignee": ("Agente", "Agent"),
    "nobody": ("nadie", "nobody"),
    "window_closed": (
        "Pasaron más de 24 horas: solo se puede enviar una plantilla",
        "More than 24 hours passed: only a template can be sent",
    ),
    "service_down": (
        "El servicio {service} no responde; reintenta en un momento",
        "The {service} service is not answering; retry in a moment",
    ),
    "sent": ("enviado", "sent"),
    "delivered": ("entregado", "delivered"),
    "read": ("leído", "read"),
    "failed": ("falló", "failed"),
    "refused_file": ("archivo no guardado", "file not kept"),
    "shortcuts": (
        "Atajos: j/k conversación siguiente/anterior, r responder, a asignarme, e resolver",
        "Shortcuts: j/k next/previous chat, r reply, a assign to me, e resolve",
    ),
    "language": ("English", "Español"),
    "not_allowed": ("Tu rol no permite ver esto", "Your role does not allow this"),
    "not_found": ("No existe (o no es de tu empresa)", "Not there (or not your company's)"),
    "campaigns": ("Campañas", "Campaigns"),
    "template_variables": ("Variables (separadas por |)", "Variables (separated by |)"),
    "sync_templates": ("Leer plantillas de Meta", "Read templates from Meta"),
    "new_campaign": ("Nueva campaña", "New campaign"),
    "name": ("Nombre", "Name"),
    "template": ("Plantilla", "Template"),
    "variables": ("variables", "variables"),
    "create": ("Crear", "Create"),
    "state": ("Estado", "State"),
    "recipients": ("Destinatarios", "Recipients"),
    "no_campaigns": ("Aún no hay campañas", "No campaigns yet"),
    "over_time": (
        "Enviados, entregados, leídos y fallidos en el tiempo",
        "Sent, delivered, read and failed over time",
    ),
    "start": ("Iniciar", "Start"),
    "pause": ("Pausar", "Pause"),
    "resume": ("Reanudar", "Resume"),
    "cancel": ("Cancelar", "Cancel"),
    "cancel_confirm": (
        "¿Cancelar la campaña? Lo no enviado no se enviará.",
        "Cancel the campaign? What is unsent stays unsent.",
    ),
    "recipients_csv": ("Destinatarios (CSV)", "Recipients (CSV)"),
    "upload": ("Cargar", "Upload"),
    "accepted": ("Aceptadas", "Accepted"),
    "rejected": ("Rechazadas", "Rejected"),
    "row": ("Fila", "Row"),
    "reason": ("Motivo", "Reason"),
    "replied": ("Respondieron", "Replied"),
    "failures_by_code": ("Fallos por código", "Failures by code"),
    "code": ("Código", "Code"),
    "cost": ("Costo facturado", "Billed cost"),
    "estimated_total": ("Total estimado", "Estimated total"),
}


def words(lang: Lang) -> dict[str, str]:
    index = LANGS.index(lang)
    return {key: pair[index] for key, pair in _WORDS.items()}


def lang_of(value: str | None) -> Lang:
    return "en" if value == "en" else "es"
