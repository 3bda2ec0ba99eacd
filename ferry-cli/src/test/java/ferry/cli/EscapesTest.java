package ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class EscapesTest {
    @Test
    void a_name_with_a_control_character_is_quoted_with_its_backslashes_and_quotes_escaped() {
        assertThat(Escapes.name("plain \\ name's.txt")).isEqualTo("plain \\ name's.txt");
        assertThat(Escapes.name("it's\\\u0007\n")).isEqualTo("$'it\\'s\\\\\\x07\\n'");
    }

    @Test
    void a_reason_keeps_its_backslashes_and_loses_only_its_control_characters() {
        assertThat(Escapes.text("cannot write C:\\x: \u001b[2J")).isEqualTo("cannot write C:\\x: \\x1b[2J");
        assertThat(Escapes.text("no such file")).isEqualTo("no such file");
    }
}
