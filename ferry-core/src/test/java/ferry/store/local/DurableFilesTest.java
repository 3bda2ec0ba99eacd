package ferry.store.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A durable write replaces a file whole, and a failed one leaves the old file and no temporary file behind. */
class DurableFilesTest {
    @TempDir
    Path folder;

    @Test
    void writes_then_replaces_a_file_leaving_nothing_else_in_its_folder() throws IOException {
        Path file = folder.resolve("state.json");

        DurableFiles.write(file, "first".getBytes(StandardCharsets.UTF_8));
        DurableFiles.write(file, "second, longer".getBytes(StandardCharsets.UTF_8));

        assertThat(file).hasContent("second, longer");
        assertThat(names()).containsExactly("state.json");
    }

    @Test
    void a_write_that_cannot_take_the_name_fails_and_removes_its_temporary_file() throws IOException {
        Path taken = Files.createDirectories(folder.resolve("record.json").resolve("inside"));

        assertThatThrownBy(() -> DurableFiles.write(taken.getParent(), new byte[] {1, 2, 3}))
                .isInstanceOf(IOException.class);

        assertThat(names()).containsExactly("record.json");
        assertThat(taken).isDirectory();
    }

    @Test
    void flushing_a_folder_that_is_not_there_fails() {
        assertThatThrownBy(() -> DurableFiles.flushFolder(folder.resolve("missing")))
                .isInstanceOf(IOException.class);
    }

    private List<String> names() throws IOException {
        try (Stream<Path> paths = Files.list(folder)) {
            return paths.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
