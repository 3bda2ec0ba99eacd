package ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ctrl-C in the middle of a sync: the process stops and leaves no temporary files beside what it wrote (every local
 * write, also by {@code cp}, goes through the same output).
 */
class InterruptIT {
    @TempDir
    Path folder;

    @Test
    void an_interrupted_sync_deletes_its_temporary_files() throws Exception {
        Path src = folder.resolve("src");
        Path dst = folder.resolve("dst");
        for (int i = 0; i < 8; i++) {
            Path file = src.resolve(i + ".bin");
            Files.createDirectories(file.getParent());
            Files.write(file, new byte[1 << 20]);
        }
        Path log = folder.resolve("child.log");
        // Slow enough that files are half-written for seconds: eight at once share 2 MB/s.
        Process copy = ChildFerry.start(Map.of("FERRY_HOME", folder.resolve("home").toString()), log, "sync",
                src.toString(), dst.toString(), "--bwlimit", "2MB/s");
        try {
            Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
            while (temporaryFiles(dst).isEmpty()) {
                assertThat(copy.isAlive()).as("the copy ended before writing: %s", Files.readString(log)).isTrue();
                assertThat(Instant.now()).as("no temporary file appeared").isBefore(deadline);
                Thread.sleep(20);
            }
            assertThat(new ProcessBuilder("kill", "-INT", Long.toString(copy.pid())).start().waitFor()).isZero();
            assertThat(copy.waitFor(20, TimeUnit.SECONDS)).as("stopped by SIGINT").isTrue();
        } finally {
            copy.destroyForcibly();
        }

        assertThat(copy.exitValue()).isNotZero();
        assertThat(Files.readString(log)).contains("ferry: stopped before it finished");
        assertThat(temporaryFiles(dst)).as("left behind; log: %s", Files.readString(log)).isEmpty();
        try (Stream<Path> files = Files.list(dst)) {
            assertThat(files.toList()).as("what was committed is whole").allSatisfy(file ->
                    assertThat(Files.size(file)).isEqualTo(1 << 20));
        }
    }

    private static List<Path> temporaryFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(file -> file.getFileName().toString().endsWith(".ferry-tmp")).toList();
        }
    }
}
