package ferry.cli;

import ferry.dataset.DatasetCatalog;
import ferry.dataset.Manifest;
import ferry.dataset.VerifyReport;
import ferry.store.Location;
import ferry.transfer.CopyReport;
import ferry.transfer.Copier;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Run Ferry end to end on a generated CIFAR-10-like dataset, with nothing but a JDK:",
                "generate small images on 'on-premises' disk, copy them into the store, record a dataset version,"
                        + " verify it, and print how long each step took."})
final class DemoCommand implements Callable<Integer> {
    static final String[] CLASSES = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
            "truck"};

    @ParentCommand
    Ferry ferry;

    @Option(names = "--images", defaultValue = "5000",
            description = "How many 32x32 PNG images to generate (default: ${DEFAULT-VALUE}).")
    int images;

    private record Step(String name, double seconds, String detail) {}

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (images < CLASSES.length) {
            throw new IllegalArgumentException("--images must be at least " + CLASSES.length + ", was " + images);
        }
        List<Step> steps = new ArrayList<>();
        Path onPrem = ferry.home().resolve("demo/on-prem/cifar10-like");
        Location storeData = ferry.storeLocation().resolve("demo/cifar10-like/");
        ferry.out.println("Ferry demo: store " + ferry.storeLocation());

        long t = System.nanoTime();
        long bytes = generate(onPrem, images);
        steps.add(new Step("generate", since(t), Units.count(images) + " PNG files, " + Units.bytes(bytes)
                + " in " + onPrem));
        ferry.out.println("  " + steps.getLast().detail());

        t = System.nanoTime();
        CopyReport copy;
        try (Progress progress = Progress.start(ferry, "copied")) {
            copy = new Copier(ferry.stores(), Copier.Options.DEFAULT, ferry.clock)
                    .copy(Location.of(onPrem).asDirectory(), storeData, progress);
        }
        if (!copy.succeeded()) {
            CpCommand.printFailures(ferry, copy.failures());
            return Ferry.FAILED;
        }
        steps.add(new Step("copy to store", since(t), Units.count(copy.objects()) + " objects to " + storeData));
        ferry.out.println("  copied " + steps.getLast().detail());

        DatasetCatalog catalog = new DatasetCatalog(ferry.stores(), ferry.storeLocation(), ferry.clock, 64);
        t = System.nanoTime();
        Manifest manifest;
        try (Progress progress = Progress.start(ferry, "checksummed")) {
            manifest = catalog.create("cifar10-demo", storeData, false, DatasetCatalog.KnownChecksums.NONE,
                    progress);
        }
        steps.add(new Step("dataset create", since(t), manifest.ref() + ", manifest "
                + catalog.manifestLocation(manifest.name(), manifest.version())));
        ferry.out.println("  created " + steps.getLast().detail());

        t = System.nanoTime();
        VerifyReport verify;
        try (Progress progress = Progress.start(ferry, "verified")) {
            verify = catalog.verify(manifest, progress);
        }
        steps.add(new Step("dataset verify", since(t), Units.count(verify.objects()) + " objects intact, "
                + verify.mismatches().size() + " mismatches"));
        ferry.out.println("  verified " + steps.getLast().detail());
        if (!verify.succeeded()) {
            CpCommand.printFailures(ferry, verify.mismatches());
            return Ferry.FAILED;
        }

        ferry.out.println();
        ferry.out.printf("%-16s %9s%n", "step", "seconds");
        for (Step step : steps) {
            ferry.out.printf("%-16s %9.2f%n", step.name(), step.seconds());
        }
        ferry.out.println();
        ferry.out.println("Next: ferry dataset show " + manifest.ref() + "   ferry ls " + storeData);
        return Ferry.OK;
    }

    private static double since(long start) {
        return (System.nanoTime() - start) / 1e9;
    }

    /**
     * Writes {@code count} small PNG images, one folder per class, deterministically, replacing an earlier demo's.
     * Each class has its own colour and pattern so the images are not all alike.
     */
    static long generate(Path folder, int count) throws IOException {
        long total = 0;
        Random random = new Random(42);
        BufferedImage image = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        for (int i = 0; i < count; i++) {
            int label = i % CLASSES.length;
            int base = (label * 0x1F3D5B7) & 0xFFFFFF;
            for (int y = 0; y < 32; y++) {
                for (int x = 0; x < 32; x++) {
                    int stripe = ((x * (label + 1) + y) / 4) % 2 == 0 ? 0x202020 : 0;
                    image.setRGB(x, y, (base ^ stripe ^ (random.nextInt() & 0x0F0F0F)) & 0xFFFFFF);
                }
            }
            png.reset();
            ImageIO.write(image, "png", png);
            Path file = folder.resolve("train/" + CLASSES[label] + "/" + String.format("%05d.png", i));
            Files.createDirectories(file.getParent());
            Files.write(file, png.toByteArray());
            total += png.size();
        }
        return total;
    }
}
