package ferry.store;

/**
 * An entry a listing passed over because it is not an object: in a local folder, a symbolic link to a folder (not
 * followed, so that a loop or a link out of the tree is not walked), a broken link, a named pipe, a socket or a
 * device. An object store holds objects only.
 *
 * @param key its name below the listed prefix, as an object there would have
 * @param what what it is, such as "a named pipe"
 */
public record PassedOver(String key, String what) {}
