package io.loraspace.jobs.output;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.StateException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The output protocol every job shares (docs/operations.md, "Output protocol").
 *
 * <ol>
 *   <li>{@link #prepare}: takes the location's lease ({@link OutputLease}: one run per output; a dead holder's is
 *       taken over, a live one's refused); repairs an interrupted publish from its journal ({@link #recover}) and
 *       deletes the staging and backup directories of dead runs; then checks what is at the output location. Nothing
 *       there, or a run that never completed (no {@code _SUCCESS}): go on. A complete output with the same job and
 *       parameter fingerprint: go on, the re-run replaces it (idempotent for scheduler retries). A complete output of
 *       other parameters, or a non-empty directory that is not ours: fail unless {@code overwrite} is set.
 *   <li>The job writes only under a hidden staging directory next to the output ({@code .<name>.loraspace-tmp-<run>}),
 *       on the same file system.
 *   <li>{@link #commit}: {@code manifest.json} is written into staging; the journal is written (phase ASIDE); the old
 *       output loses {@code _SUCCESS} and moves to {@code .<name>.loraspace-old-<run>}; the journal moves to phase IN;
 *       staging moves to the output ({@code manifest.json} last); {@code _SUCCESS} is written; the backup and then
 *       the journal are deleted. {@code _SUCCESS} is the commit point: a reader that sees it sees the whole new
 *       output. A crash at any instant before it leaves a journal from which the next run restores the previous
 *       output (phase ASIDE: move the backup's files back; phase IN: delete the partial new output, then the same);
 *       a crash after it only leaves clean-up.
 *   <li>{@link #abort}: deletes staging; an existing output is left exactly as it was.
 * </ol>
 */
public final class OutputCommitter {
  private static final Logger LOG = LoggerFactory.getLogger(OutputCommitter.class);
  public static final String SUCCESS = "_SUCCESS";
  public static final String MANIFEST = "manifest.json";
  /** Written into staging first, so a directory left by an interrupted publish is recognisably ours. */
  public static final String MARKER = "_loraspace_output";

  private final FileSystem fs;
  private final Path output;
  private final Path staging;
  private final String runId;
  private final OutputLease lease;
  private final TreeMover mover;
  private final PublishHook hook;

  private OutputCommitter(FileSystem fs, Path output, Path staging, String runId, OutputLease lease, TreeMover mover,
      PublishHook hook) {
    this.fs = fs;
    this.output = output;
    this.staging = staging;
    this.runId = runId;
    this.lease = lease;
    this.mover = mover;
    this.hook = hook;
  }

  /** Hidden directories and files of runs next to an output, all named {@code .<name>.loraspace-*}. */
  static Path sibling(Path output, String suffix) {
    return new Path(output.getParent(), "." + output.getName() + ".loraspace-" + suffix);
  }

  /**
   * Takes the output location's lease, repairs what an interrupted run left, checks the location against the
   * protocol and creates the staging directory. The caller must {@link #close} the committer (releases the lease).
   *
   * @param fingerprint hash of the job name and its result-affecting parameters
   * @param leaseTimeoutMillis how long a lease held from another machine must stay silent before its run counts as dead
   */
  public static OutputCommitter prepare(Configuration conf, String outputUri, String jobName, String fingerprint,
      boolean overwrite, String runId, long leaseTimeoutMillis, PublishHook hook) throws IOException {
    Path out = new Path(outputUri);
    FileSystem fs = out.getFileSystem(conf);
    out = fs.makeQualified(out);
    if (out.getParent() == null) {
      throw new ArgumentException("Option 'out' is '" + outputUri + "': the root of a file system cannot be an output");
    }
    if (fs.exists(out) && !fs.getFileStatus(out).isDirectory()) {
      throw new ArgumentException("Option 'out' is '" + outputUri + "', which exists and is a file");
    }
    TreeMover mover = new TreeMover(fs, conf);
    OutputLease lease = OutputLease.acquire(fs, out, runId, leaseTimeoutMillis);
    try {
      recover(fs, out, mover);
      checkExisting(fs, out, outputUri, jobName, fingerprint, overwrite);
      Path staging = sibling(out, "tmp-" + runId);
      if (!fs.mkdirs(staging)) {
        throw new StateException("Cannot create staging directory '" + staging + "'");
      }
      try (OutputStream m = fs.create(new Path(staging, MARKER), true)) {
        m.write(("job=" + jobName + "\n").getBytes(StandardCharsets.UTF_8));
      }
      OutputCommitter c = new OutputCommitter(fs, out, staging, runId, lease, mover, hook);
      hook.at("running");
      return c;
    } catch (IOException | RuntimeException e) {
      lease.close();
      throw e;
    }
  }

  private static void checkExisting(FileSystem fs, Path out, String outputUri, String jobName, String fingerprint,
      boolean overwrite) throws IOException {
    if (!fs.exists(out)) {
      return;
    }
    Path manifest = new Path(out, MANIFEST);
    boolean complete = fs.exists(new Path(out, SUCCESS)) && fs.exists(manifest);
    if (complete) {
      JsonNode m = readJson(fs, manifest);
      String oldJob = m.path("job").asText("");
      String oldFingerprint = m.path("fingerprint").asText("");
      if (oldJob.equals(jobName) && oldFingerprint.equals(fingerprint)) {
        LOG.info("Output {} holds a complete run with the same parameters: re-running replaces it", out);
      } else if (!overwrite) {
        throw new StateException("Output '" + outputUri + "' holds a complete result of job '" + oldJob
            + "' with other parameters (fingerprint " + abbreviate(oldFingerprint) + ", this run "
            + abbreviate(fingerprint) + "); pass --set overwrite=true to replace it");
      }
    } else {
      FileStatus[] children = fs.listStatus(out);
      boolean ours = fs.exists(manifest) || fs.exists(new Path(out, MARKER)) || children.length == 0;
      if (!ours && !overwrite) {
        throw new StateException("Output '" + outputUri + "' is a non-empty directory that is not a loraspace output; "
            + "pass --set overwrite=true to replace it");
      }
      LOG.warn("Output {} holds an incomplete earlier run (no _SUCCESS): it will be replaced", out);
    }
  }

  /**
   * Takes the lease of {@code outputUri}, repairs what dead runs left there (as every run does first) and releases the
   * lease; for operators and tests. Fails naming the holder when a live run holds the location.
   */
  public static void recover(Configuration conf, String outputUri, long leaseTimeoutMillis) throws IOException {
    Path out = new Path(outputUri);
    FileSystem fs = out.getFileSystem(conf);
    out = fs.makeQualified(out);
    try (OutputLease lease = OutputLease.acquire(fs, out, "recover-" + java.util.UUID.randomUUID(),
        leaseTimeoutMillis)) {
      recover(fs, out, new TreeMover(fs, conf));
    }
  }

  /**
   * Repairs what dead runs left at {@code output}: an interrupted publish is undone from its journal (or finished, if
   * it had passed its commit point), then every staging and backup directory of a run other than a live holder of the
   * lease is deleted. The caller must hold the output's lease. Each action is logged.
   */
  private static void recover(FileSystem fs, Path output, TreeMover mover) throws IOException {
    PublishJournal j = PublishJournal.read(fs, output);
    if (j != null) {
      repair(fs, output, mover, j);
    }
    FileStatus[] leftovers = fs.globStatus(sibling(output, "{tmp,old}-*"));
    if (leftovers != null) {
      for (FileStatus st : leftovers) {
        LOG.warn("Output {}: deleting {} left by a dead run", output, st.getPath());
        fs.delete(st.getPath(), true);
      }
    }
  }

  private static void repair(FileSystem fs, Path output, TreeMover mover, PublishJournal j) throws IOException {
    JsonNode m = fs.exists(new Path(output, SUCCESS)) && fs.exists(new Path(output, MANIFEST))
        ? readJson(fs, new Path(output, MANIFEST)) : null;
    if (m != null && j.runId.equals(m.path("runId").asText())) {
      LOG.warn("Output {}: run {} was interrupted after its publish completed: removing its backup", output, j.runId);
    } else {
      LOG.warn("Output {}: run {} was interrupted while publishing (phase {}, previous output {}): restoring the "
          + "previous output", output, j.runId, j.phase, j.previous.name().toLowerCase(java.util.Locale.ROOT));
      if (j.phase == PublishJournal.Phase.IN) {
        // Only new files are at the output: drop them, and the state is that of a move aside.
        fs.delete(output, true);
        j.phase = PublishJournal.Phase.ASIDE;
        j.write(fs, output);
      }
      mover.mergeInto(j.backup, output, null, null);
      if (j.previous == PublishJournal.Previous.COMPLETE) {
        try (OutputStream s = fs.create(new Path(output, SUCCESS), true)) {
          s.flush();
        }
      }
      LOG.warn("Output {}: previous output restored", output);
    }
    fs.delete(j.backup, true);
    fs.delete(j.staging, true);
    PublishJournal.delete(fs, output);
  }

  private static String abbreviate(String fp) {
    return fp.length() > 12 ? fp.substring(0, 12) : fp;
  }

  private static JsonNode readJson(FileSystem fs, Path p) throws IOException {
    try (InputStream in = fs.open(p)) {
      return Manifest.JSON.readTree(in);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new StateException("Existing manifest '" + p + "' is not valid JSON: " + e.getOriginalMessage());
    }
  }

  public FileSystem fs() {
    return fs;
  }

  /** Where the job writes. */
  public Path staging() {
    return staging;
  }

  /** The final output location. */
  public Path output() {
    return output;
  }

  /**
   * Publishes the staging directory as the output (see the class comment for the steps): {@code manifest.json} (with
   * the output file list, sizes and, when asked, SHA-256 checksums) comes in last of the data, {@code _SUCCESS} after
   * it.
   */
  public void commit(Manifest manifest, boolean checksums) throws IOException {
    ArrayNode files = listOutputs(staging, checksums);
    manifest.putField("outputs", files);
    writeBytes(new Path(staging, MANIFEST), Manifest.JSON.writeValueAsBytes(manifest.render()));
    hook.at("staged");
    lease.checkHeld();
    PublishJournal.Previous previous = !fs.exists(output) ? PublishJournal.Previous.NONE
        : fs.exists(new Path(output, SUCCESS)) ? PublishJournal.Previous.COMPLETE
        : PublishJournal.Previous.INCOMPLETE;
    Path backup = sibling(output, "old-" + runId);
    PublishJournal journal = new PublishJournal(runId, staging, backup, previous, PublishJournal.Phase.ASIDE);
    journal.write(fs, output);
    hook.at("journal-written");
    if (previous != PublishJournal.Previous.NONE) {
      if (previous == PublishJournal.Previous.COMPLETE) {
        fs.delete(new Path(output, SUCCESS), false);
        hook.at("success-removed");
      }
      mover.move(output, backup, null, () -> hook.at("moving-old"));
      hook.at("old-moved");
    }
    journal.phase = PublishJournal.Phase.IN;
    journal.write(fs, output);
    mover.move(staging, output, MANIFEST, () -> hook.at("moving-new"));
    hook.at("new-moved");
    writeBytes(new Path(output, SUCCESS), new byte[0]);
    hook.at("success-written");
    if (previous != PublishJournal.Previous.NONE) {
      fs.delete(backup, true);
    }
    PublishJournal.delete(fs, output);
    hook.at("published");
  }

  /** Deletes the staging directory; the output location is untouched. Never throws. */
  public void abort() {
    try {
      fs.delete(staging, true);
    } catch (IOException | RuntimeException e) {
      LOG.warn("Could not delete staging directory {}: {}", staging, e.toString());
    }
  }

  /** Releases the output location's lease (after {@link #commit} or {@link #abort}). Never throws. */
  public void close() {
    lease.close();
  }

  private void writeBytes(Path p, byte[] bytes) throws IOException {
    try (FSDataOutputStream out = fs.create(p, true)) {
      out.write(bytes);
    }
  }

  private ArrayNode listOutputs(Path root, boolean checksums) throws IOException {
    List<LocatedFileStatus> all = new ArrayList<>();
    RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
    while (it.hasNext()) {
      all.add(it.next());
    }
    Collections.sort(all, (a, b) -> a.getPath().toString().compareTo(b.getPath().toString()));
    ArrayNode arr = Manifest.JSON.createArrayNode();
    String prefix = fs.makeQualified(root).toUri().getPath();
    for (LocatedFileStatus st : all) {
      if (st.getPath().getName().equals(MANIFEST) && st.getPath().getParent().toUri().getPath().equals(prefix)) {
        continue;
      }
      String rel = st.getPath().toUri().getPath().substring(prefix.length() + 1);
      ObjectNode n = arr.addObject();
      n.put("path", rel);
      n.put("bytes", st.getLen());
      if (checksums) {
        n.put("sha256", sha256(st.getPath()));
      }
    }
    return arr;
  }

  private String sha256(Path p) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    byte[] buf = new byte[1 << 20];
    try (InputStream in = fs.open(p)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** Writes a small UTF-8 text file under staging (reports, configs). */
  public void writeText(String relativePath, String text) throws IOException {
    try (OutputStream out = fs.create(new Path(staging, relativePath), true)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
  }
}
