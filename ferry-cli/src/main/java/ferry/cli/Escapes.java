package ferry.cli;

/**
 * Keys and paths as text for a terminal: a control character in a name (a newline, an escape sequence) is written as
 * a backslash escape, so one key stays one line and cannot drive the terminal. {@code --json} output needs none.
 */
final class Escapes {
    private Escapes() {}

    /**
     * A name as it is, or, when it holds a control character, quoted as bash writes such a name ({@code $'a\nb'}),
     * its backslashes and quotes escaped too: a file named {@code a\nb} with a backslash does not print alike.
     */
    static String name(String name) {
        return hasControl(name) ? "$'" + escape(name, true) + "'" : name;
    }

    /** Free text, such as a failure's reason that quotes a key, with its control characters escaped. */
    static String text(String text) {
        return hasControl(text) ? escape(text, false) : text;
    }

    private static boolean isControl(char c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f);
    }

    private static boolean hasControl(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (isControl(text.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    private static String escape(String text, boolean quoted) {
        StringBuilder escaped = new StringBuilder(text.length() + 8);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '\n' -> escaped.append("\\n");
                case '\t' -> escaped.append("\\t");
                case '\r' -> escaped.append("\\r");
                case '\\', '\'' -> escaped.append(quoted ? "\\" : "").append(c);
                default -> {
                    if (isControl(c)) {
                        escaped.append(String.format("\\x%02x", (int) c));
                    } else {
                        escaped.append(c);
                    }
                }
            }
        }
        return escaped.toString();
    }
}
