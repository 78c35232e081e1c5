package dev.deputy.broker.authorize;

/** Minimal server-rendered pages. Everything interpolated goes through {@link #esc}. */
public final class Html {
    private Html() {
    }

    /** HTML-escapes text for element content and double-quoted attribute values. */
    public static String esc(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                case '`' -> b.append("&#96;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    /** A complete page; {@code bodyHtml} must already be escaped. */
    public static String page(String title, String bodyHtml) {
        return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                + "<title>" + esc(title) + "</title><style>body{font-family:system-ui,sans-serif;max-width:36rem;"
                + "margin:3rem auto;padding:0 1rem;color:#222}button,.btn{font-size:1rem;padding:.5rem 1rem;margin:.25rem}"
                + "code{background:#f3f3f3;padding:0 .2rem}li{margin:.4rem 0}</style></head><body>"
                + "<h1>" + esc(title) + "</h1>" + bodyHtml + "</body></html>";
    }

    public static String error(String title, String message) {
        return page(title, "<p>" + esc(message) + "</p>");
    }
}
