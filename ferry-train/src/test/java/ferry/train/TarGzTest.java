package ferry.train;

import static org.assertj.core.api.Assertions.assertThat;

import ferry.store.PassedOver;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** model.tar.gz as other tools read it: checked with the system's tar and with Python's tarfile. */
class TarGzTest {
    @TempDir
    Path folder;

    @Test
    void long_and_unicode_names_modes_links_and_empty_folders_survive_gnu_tar_and_python_and_pipes_are_named()
            throws Exception {
        Path model = folder.resolve("model");
        String deep = "a".repeat(60) + "/" + "b".repeat(60) + "/" + "c".repeat(90) + ".bin"; // needs the prefix
        String tooLong = "d".repeat(120) + ".bin"; // no '/' to split at: needs PAX
        for (String name : List.of("model.pth", "sub/weights.bin", deep, tooLong, "données/été.txt")) {
            Path file = model.resolve(name);
            Files.createDirectories(file.getParent());
            Files.writeString(file, "content of " + name);
        }
        Files.createDirectories(model.resolve("empty"));
        Path script = model.resolve("serve.sh");
        Files.writeString(script, "#!/bin/sh\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-x---"));
        Files.createSymbolicLink(model.resolve("latest.pth"), Path.of("model.pth"));
        assertThat(new ProcessBuilder("mkfifo", model.resolve("sub/events").toString()).start().waitFor()).isZero();
        Path archive = folder.resolve("model.tar.gz");
        List<PassedOver> leftOut = new ArrayList<>();
        try (OutputStream out = Files.newOutputStream(archive)) {
            TarGz.write(model, out, leftOut::add);
        }
        assertThat(leftOut).containsExactly(new PassedOver("sub/events", "a named pipe"));

        Path extracted = Files.createDirectories(folder.resolve("x"));
        Process tar = new ProcessBuilder("tar", "-xzf", archive.toString(), "-C", extracted.toString())
                .redirectErrorStream(true).start();
        String tarOutput = new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(tar.waitFor()).as(tarOutput).isZero();
        for (String name : List.of("model.pth", "sub/weights.bin", deep, tooLong, "données/été.txt")) {
            assertThat(extracted.resolve(name)).hasContent("content of " + name);
        }
        assertThat(extracted.resolve("empty")).isEmptyDirectory();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(extracted.resolve("serve.sh"))))
                .isEqualTo("rwxr-x---");
        assertThat(Files.readSymbolicLink(extracted.resolve("latest.pth"))).isEqualTo(Path.of("model.pth"));

        Process python = new ProcessBuilder(TrainFixture.PYTHON, "-c", """
                import sys, tarfile
                with tarfile.open(sys.argv[1], "r:gz") as t:
                    print("\\n".join(sorted(t.getnames())))
                """, archive.toString()).redirectErrorStream(true).start();
        String names = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(python.waitFor()).as(names).isZero();
        assertThat(names.lines()).contains("model.pth", "sub/weights.bin", deep, tooLong, "données/été.txt", "empty",
                "latest.pth");
        assertThat(names).doesNotContain("./").doesNotContain("PaxHeaders").doesNotContain("events");
    }

    @Test
    void an_empty_folder_gives_an_empty_archive_that_tar_accepts() throws Exception {
        Path archive = folder.resolve("empty.tar.gz");
        try (OutputStream out = Files.newOutputStream(archive)) {
            assertThat(TarGz.write(Files.createDirectories(folder.resolve("model")), out, p -> {})).isZero();
        }
        Process tar = new ProcessBuilder("tar", "-tzf", archive.toString()).redirectErrorStream(true).start();
        String listing = new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(tar.waitFor()).as(listing).isZero();
        assertThat(listing).isEmpty();
    }
}
