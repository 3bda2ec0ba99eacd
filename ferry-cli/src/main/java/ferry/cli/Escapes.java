package ferry.cli;

/**
 * Keys and paths as text for a terminal: a control character in a name (a newline, an escape sequence) is written as
 * a backslash escape, so one key stays one line and cannot drive the terminal. {@code --json} output needs none.
 */
final class Escapes {
    private Escapes() {}

    static String name(String name) {
        StringBuilder escaped = null;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean control = c < 0x20 || (c >= 0x7f && c <= 0x9f);
            if (control && escaped == null) {
                escaped = new StringBuilder(name.length() + 8).append(name, 0, i);
            }
            if (escaped != null) {
                if (!control) {
                    escaped.append(c);
                } else if (c == '\n') {
                    escaped.append("\\n");
                } else if (c == '\t') {
                    escaped.append("\\t");
                } else if (c == '\r') {
                    escaped.append("\\r");
                } else {
                    escaped.append(String.format("\\x%02x", (int) c));
                }
            }
        }
        return escaped == null ? name : escaped.toString();
    }
}
