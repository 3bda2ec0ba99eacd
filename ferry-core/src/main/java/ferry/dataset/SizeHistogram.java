package ferry.dataset;

import java.util.ArrayList;
import java.util.List;

/** Counts objects and bytes in size classes that matter for choosing how to deliver data (CONTRACT.md §7). */
final class SizeHistogram {
    private static final long KIB = 1024;
    private static final long[] BOUNDS = {4 * KIB, 64 * KIB, KIB * KIB, 16 * KIB * KIB, 150 * KIB * KIB,
            1024 * KIB * KIB};
    private static final String[] LABELS = {"<4KiB", "4KiB-64KiB", "64KiB-1MiB", "1MiB-16MiB", "16MiB-150MiB",
            "150MiB-1GiB", ">=1GiB"};

    private final long[] objects = new long[LABELS.length];
    private final long[] bytes = new long[LABELS.length];

    void add(long size) {
        int i = 0;
        while (i < BOUNDS.length && size >= BOUNDS[i]) {
            i++;
        }
        objects[i]++;
        bytes[i] += size;
    }

    List<Manifest.SizeClass> classes() {
        List<Manifest.SizeClass> classes = new ArrayList<>();
        for (int i = 0; i < LABELS.length; i++) {
            classes.add(new Manifest.SizeClass(i < BOUNDS.length ? BOUNDS[i] : -1, LABELS[i], objects[i], bytes[i]));
        }
        return classes;
    }
}
