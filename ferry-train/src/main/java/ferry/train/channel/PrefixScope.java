package ferry.train.channel;

import ferry.store.FolderListing;
import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectStore;
import java.io.IOException;
import java.util.stream.Stream;

/**
 * What an S3Prefix delivers, and what its keys are named below; File and FastFile both read a prefix through this, so
 * that they deliver the same files under the same names. SageMaker matches every key that starts with the S3Uri.
 *
 * <ul>
 *   <li>An S3Uri ending in {@code /} is a folder: its keys are named below it.
 *   <li>One without, that only the folder of that name starts with, is read as that folder (what such a request
 *       almost always means, and how SageMaker names those keys).
 *   <li>One that other keys start with ({@code s3://b/data/train} and {@code data/train-part1.csv}, or the URI of one
 *       object) delivers those keys named below its parent folder, their names whole ({@code train-part1.csv}), as
 *       SageMaker names them.
 *   <li>One that matches both is refused: the two kinds of name could collide, and SageMaker documents no rule that
 *       tells them apart.
 * </ul>
 *
 * @param listed the prefix to list
 * @param base what the listed keys are named relative to
 */
record PrefixScope(Location listed, Location base) {
    /** True when the prefix is read as a folder, so that it can be mounted live. */
    boolean folder() {
        return listed.equals(base);
    }

    static PrefixScope of(String channel, Location uri, ObjectStore store) throws IOException {
        if (uri.isDirectory()) {
            return new PrefixScope(uri, uri);
        }
        String name = uri.name();
        Location parent = Location.of(uri.toString().substring(0, uri.toString().length() - name.length()));
        // One level of the parent shows what starts with the name without listing below it.
        FolderListing level = store.listFolder(parent);
        String other = Stream.concat(level.objects().stream().map(ObjectInfo::location).map(Location::name),
                        level.folders().stream().filter(folder -> !folder.equals(name)))
                .filter(child -> child.startsWith(name))
                .sorted()
                .findFirst()
                .orElse(null);
        if (other == null) {
            return new PrefixScope(uri.asDirectory(), uri.asDirectory());
        }
        if (level.folders().contains(name)) {
            throw new ChannelException(channel, "S3Uri " + uri + " matches the folder " + uri.asDirectory()
                    + " and other keys that start with it (" + parent.resolve(other) + "): end S3Uri with '/' to"
                    + " take the folder alone, or move the other keys; Ferry cannot name both kinds apart in one"
                    + " channel folder");
        }
        return new PrefixScope(uri, parent);
    }
}
