package ferry.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example a user runs, examples/pytorch-cifar10, as its README says, on images laid out as {@code ferry demo}
 * lays them out. Needs Debian's python3-torch and python3-torchvision; without them it fails and says so (CI
 * installs them), rather than being skipped.
 */
class PyTorchExampleIT {
    private static final Path EXAMPLE = Path.of("..", "examples", "pytorch-cifar10").toAbsolutePath().normalize();

    @TempDir
    Path folder;

    @BeforeAll
    static void pytorchIsInstalled() throws Exception {
        Process check = new ProcessBuilder(TrainFixture.PYTHON, "-c", "import torch, torchvision")
                .redirectErrorStream(true).start();
        String output = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(check.waitFor()).as("PyTorch for /usr/bin/python3 is missing (" + output.strip()
                + "): apt-get install python3-torch python3-torchvision").isZero();
    }

    @Test
    void the_example_trains_from_a_file_a_filesystem_and_a_fastfile_channel() throws Exception {
        Path home = folder.resolve("home");
        Path onPrem = home.resolve("demo/on-prem/cifar10-like/train");
        generate(onPrem, 300);
        Path store = home.resolve("store/demo/cifar10-like/train");
        try (var walk = Files.walk(onPrem)) {
            for (Path file : walk.filter(Files::isRegularFile).toList()) {
                Path copy = store.resolve(onPrem.relativize(file).toString());
                Files.createDirectories(copy.getParent());
                Files.copy(file, copy);
            }
        }
        Map<String, String> environment = Map.of("FERRY_HOME", home.toString(), "HOME", folder.toString(),
                "PATH", "/usr/bin:/bin");
        List<String> output = new CopyOnWriteArrayList<>();
        try (ferry.store.Stores stores = ferry.store.Stores.fromEnvironment(environment)) {
            JobRunner runner = new JobRunner(new JobStore(home.resolve("jobs"), Clock.systemUTC()), stores,
                    environment, Clock.systemUTC(), JobRunner.Options.DEFAULT, output::add);
            RequestParser parser = new RequestParser(environment, home);

            JobDescription file = runner.run(parser.parse(EXAMPLE.resolve("job.json")));
            JobDescription fileSystem = runner.run(parser.parse(EXAMPLE.resolve("job-filesystem.yaml")));
            JobDescription fastFile = runner.run(parser.parse(EXAMPLE.resolve("job-fastfile.yaml")));

            assertThat(file.status()).as(String.join("\n", output)).isEqualTo("Completed");
            assertThat(fileSystem.status()).as(String.join("\n", output)).isEqualTo("Completed");
            assertThat(fastFile.status()).as(String.join("\n", output)).isEqualTo("Completed");
        }
        assertThat(output).anyMatch(line -> line.startsWith("training on 300 images of 10 classes"))
                .anyMatch(line -> line.startsWith("epoch 2/2: loss"));
        TrainFixture fixture = new TrainFixture(folder.resolve("check"));
        Path model = fixture.untar(home.resolve("examples/output/pytorch-cifar10/output/model.tar.gz"));
        assertThat(model.resolve("model.pth")).isNotEmptyFile();
        assertThat(model.resolve("classes.json")).content().contains("airplane", "truck");
        assertThat(home.resolve("examples/checkpoints/pytorch-cifar10/checkpoint.pth")).isNotEmptyFile();
        assertThat(fixture.untar(home.resolve("examples/output/pytorch-cifar10/output/output.tar.gz"))
                .resolve("metrics.json")).content().contains("\"epoch\": 2");
        assertThat(home.resolve("examples/output/pytorch-cifar10-filesystem/output/model.tar.gz")).isNotEmptyFile();
        assertThat(home.resolve("examples/output/pytorch-cifar10-fastfile/output/model.tar.gz")).isNotEmptyFile();
        fixture.close();
    }

    /** CIFAR-10-like 32x32 PNGs in {@code <class>/<nnnnn>.png}, as ferry demo writes them. */
    private static void generate(Path folder, int count) throws Exception {
        String[] classes = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
        Random random = new Random(42);
        BufferedImage image = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < count; i++) {
            int label = i % classes.length;
            int base = (label * 0x1F3D5B7) & 0xFFFFFF;
            for (int y = 0; y < 32; y++) {
                for (int x = 0; x < 32; x++) {
                    int stripe = ((x * (label + 1) + y) / 4) % 2 == 0 ? 0x202020 : 0;
                    image.setRGB(x, y, (base ^ stripe ^ (random.nextInt() & 0x0F0F0F)) & 0xFFFFFF);
                }
            }
            Path file = folder.resolve(classes[label] + "/" + String.format("%05d.png", i));
            Files.createDirectories(file.getParent());
            ImageIO.write(image, "png", file.toFile());
        }
    }
}
