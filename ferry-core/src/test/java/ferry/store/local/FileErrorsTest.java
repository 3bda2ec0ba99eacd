package ferry.store.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JDK names only the path for the common failures; messages must also say what went wrong. */
class FileErrorsTest {
    @TempDir
    Path folder;

    @Test
    void names_the_file_and_what_went_wrong() throws IOException {
        Path missing = folder.resolve("missing/file");
        IOException notThere = catchThrowableOfType(IOException.class, () -> Files.readAllBytes(missing));
        assertThat(notThere.getMessage()).isEqualTo(missing.toString());
        assertThat(FileErrors.reason(notThere)).isEqualTo(missing + ": no such file or folder");

        Path file = Files.writeString(folder.resolve("file"), "x");
        IOException exists = catchThrowableOfType(IOException.class, () -> Files.createFile(file));
        assertThat(FileErrors.reason(exists)).isEqualTo(file + ": already exists");

        IOException notFolder = catchThrowableOfType(IOException.class, () -> Files.list(file.resolve("x")));
        assertThat(FileErrors.reason(notFolder)).isEqualTo(file.resolve("x") + ": not a folder");

        assertThat(FileErrors.reason(new IOException("plain"))).isEqualTo("plain");
    }
}
