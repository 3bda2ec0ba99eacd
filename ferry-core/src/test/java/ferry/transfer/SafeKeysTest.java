package ferry.transfer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeKeysTest {
    @TempDir
    Path folder;

    @Test
    void ordinary_keys_resolve_below_the_root() throws Exception {
        SafeKeys keys = new SafeKeys(folder.resolve("out"));
        assertThat(keys.resolve("train/cat/0001.png")).isEqualTo(folder.resolve("out/train/cat/0001.png"));
        assertThat(keys.resolve("..hidden")).isEqualTo(folder.resolve("out/..hidden"));
    }

    @Test
    void keys_that_escape_are_refused_by_name() throws Exception {
        SafeKeys keys = new SafeKeys(folder.resolve("out"));
        for (String bad : new String[] {"../x", "a/../../x", "/etc/passwd", "a//b", "./a", "a/.", "a\0b", ""}) {
            assertThatThrownBy(() -> keys.resolve(bad))
                    .as(bad)
                    .isInstanceOf(SafeKeys.UnsafeKeyException.class)
                    .hasMessageContaining("refusing object key '" + bad.replace("\0", "\\0") + "'");
        }
    }

    @Test
    void a_sibling_with_a_common_string_prefix_is_not_inside() throws Exception {
        // "/out-evil" starts with the string "/out": paths, not strings, must be compared.
        SafeKeys keys = new SafeKeys(folder.resolve("out"));
        Files.createDirectories(folder.resolve("out-evil"));
        Files.createSymbolicLink(folder.resolve("out/link"), folder.resolve("out-evil"));
        assertThatThrownBy(() -> keys.resolve("link/x"))
                .isInstanceOf(SafeKeys.UnsafeKeyException.class)
                .hasMessageContaining("symbolic link");
    }
}
