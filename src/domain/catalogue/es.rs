//! The Spanish catalogue (neutral Spanish, formal "usted"): the same keys as English.

/// Key → text; `{name}` marks a value filled in at render time.
pub const ES: &[(&str, &str)] = &[
    ("channel.email", "correo electrónico"),
    ("channel.sms", "SMS"),
    ("mail.anonymous", "cliente"),
    ("notice.code", "Primero verifique el código de un solo uso."),
    (
        "notice.reissue",
        "Gracias. Si se puede enviar un enlace nuevo, ya va de camino a la dirección a la que se envió el enlace.",
    ),
    (
        "notice.sent",
        "Si este enlace es válido, el código ya está en camino. Puede pedir otro dentro de un minuto.",
    ),
    ("notice.verified", "Código aceptado."),
    (
        "notice.wait",
        "Demasiados intentos. Espere un rato y vuelva a intentarlo.",
    ),
    (
        "notice.wrong",
        "Ese código no es válido. Revíselo o pida uno nuevo.",
    ),
    (
        "otp.html",
        "{tenant}: su código es válido durante 10 minutos. No lo comparta con nadie.",
    ),
    ("otp.subject", "{tenant}: su código de verificación"),
    (
        "otp.text",
        "{tenant}: su código es {code}. Es válido durante 10 minutos. No lo comparta con nadie.",
    ),
    (
        "page.code.body",
        "Para asegurarnos de que llega a la persona correcta, le enviaremos un código de un solo uso por {channel}.",
    ),
    ("page.code.heading", "{tenant} ha compartido algo con usted"),
    ("page.code.label", "Código de un solo uso"),
    ("page.code.resend", "Enviar el código de nuevo"),
    ("page.code.send", "Enviarme un código"),
    ("page.code.verify", "Verificar"),
    ("page.document.button", "Descargar"),
    (
        "page.document.count",
        "Cada descarga cuenta como una visualización (usadas: {used} de {max}).",
    ),
    (
        "page.document.heading",
        "{tenant} ha compartido un documento con usted",
    ),
    ("page.expires", "Este enlace se puede usar hasta el {date}."),
    ("page.logo", "Logotipo de {tenant}"),
    ("page.not_allowed.back", "Volver a su enlace"),
    (
        "page.not_allowed.body",
        "Este formulario debe enviarse desde este sitio.",
    ),
    ("page.not_allowed.title", "No permitido"),
    (
        "page.opened.body",
        "Se ha contado la visualización, pero no hay ninguna aplicación configurada para mostrar este tipo de contenido. Póngase en contacto con el remitente.",
    ),
    ("page.opened.title", "Abierto"),
    ("page.switch.back", "Volver al enlace que tenía abierto"),
    (
        "page.switch.body",
        "¿Desea continuar con este? El enlace que tenía abierto sigue siendo válido; puede volver a abrirlo desde su mensaje.",
    ),
    ("page.switch.button", "Continuar con este enlace"),
    ("page.switch.heading", "Ya tiene otro enlace abierto"),
    ("page.switch.title", "Otro enlace"),
    (
        "page.unavailable.body",
        "Puede que haya caducado o que ya se haya usado. Pida uno nuevo a quien se lo envió.",
    ),
    ("page.unavailable.heading", "Este enlace no está disponible"),
    ("page.unavailable.reissue", "Pedir un enlace nuevo"),
    ("page.unavailable.title", "Enlace no disponible"),
    ("page.view.button", "Abrir: {type}"),
    (
        "page.view.count",
        "Cada apertura cuenta como una visualización (usadas: {used} de {max}).",
    ),
    (
        "page.view.heading",
        "{tenant} ha compartido con usted: {type}",
    ),
];
