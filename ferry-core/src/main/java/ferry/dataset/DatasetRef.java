package ferry.dataset;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A dataset by name, with a version ({@code cifar@v3}) or without one ({@code cifar}, meaning the latest).
 *
 * @param name letters, digits, {@code .}, {@code _} and {@code -}, starting with a letter or digit
 * @param version 1 or more, or 0 for the latest
 */
public record DatasetRef(String name, int version) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    private static final Pattern REF = Pattern.compile("([^@]+)(?:@v?([0-9]{1,9}))?");

    public DatasetRef {
        checkName(name);
        if (version < 0) {
            throw new IllegalArgumentException("dataset version must be 1 or more, was " + version);
        }
    }

    /** Parses {@code name} or {@code name@vN}. */
    public static DatasetRef parse(String text) {
        Matcher m = REF.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException(
                    "'" + text + "' is not a dataset reference: write NAME or NAME@vN, for example cifar@v2");
        }
        int version = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
        if (m.group(2) != null && version == 0) {
            throw new IllegalArgumentException("dataset versions start at v1: " + text);
        }
        return new DatasetRef(m.group(1), version);
    }

    public static String checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("'" + name + "' is not a valid dataset name: use letters, digits,"
                    + " '.', '_' and '-', starting with a letter or digit, at most 128 characters");
        }
        return name;
    }

    public boolean isLatest() {
        return version == 0;
    }

    @Override
    public String toString() {
        return isLatest() ? name : name + "@v" + version;
    }
}
