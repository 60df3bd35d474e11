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
 * The output protocol every job shares (ARCHITECTURE.md, "Outputs: safe for schedulers").
 *
 * <ol>
 *   <li>{@link #prepare}: checks what is at the output location. Nothing there, or a run that never completed (no
 *       {@code _SUCCESS}): go on. A complete output with the same job and parameter fingerprint: go on, the re-run
 *       replaces it with the same result (idempotent for scheduler retries). A complete output of other parameters,
 *       or a non-empty directory that is not ours: fail unless {@code overwrite} is set.
 *   <li>The job writes only under a hidden staging directory next to the output ({@code .<name>.loraspace-tmp-<run>}),
 *       on the same file system so the publish is a rename.
 *   <li>{@link #commit}: old output (if any) first loses {@code _SUCCESS} and {@code manifest.json} (so it no longer
 *       looks complete) and moves aside; staging is renamed to the output; then {@code manifest.json} and last
 *       {@code _SUCCESS} are written; the old output is deleted. On S3 the rename is a copy, and the marker files
 *       written last are the commit point.
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

  private OutputCommitter(FileSystem fs, Path output, Path staging, String runId) {
    this.fs = fs;
    this.output = output;
    this.staging = staging;
    this.runId = runId;
  }

  /**
   * Checks the output location against the protocol and creates the staging directory.
   *
   * @param fingerprint hash of the job name and its result-affecting parameters
   */
  public static OutputCommitter prepare(Configuration conf, String outputUri, String jobName, String fingerprint,
      boolean overwrite, String runId) throws IOException {
    Path out = new Path(outputUri);
    FileSystem fs = out.getFileSystem(conf);
    out = fs.makeQualified(out);
    if (out.getParent() == null) {
      throw new ArgumentException("Option 'out' is '" + outputUri + "': the root of a file system cannot be an output");
    }
    if (fs.exists(out)) {
      FileStatus st = fs.getFileStatus(out);
      if (!st.isDirectory()) {
        throw new ArgumentException("Option 'out' is '" + outputUri + "', which exists and is a file");
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
    Path staging = new Path(out.getParent(), "." + out.getName() + ".loraspace-tmp-" + runId);
    if (fs.exists(staging)) {
      fs.delete(staging, true);
    }
    if (!fs.mkdirs(staging)) {
      throw new StateException("Cannot create staging directory '" + staging + "'");
    }
    try (OutputStream m = fs.create(new Path(staging, MARKER), true)) {
      m.write(("job=" + jobName + "\n").getBytes(StandardCharsets.UTF_8));
    }
    return new OutputCommitter(fs, out, staging, runId);
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
   * Publishes the staging directory as the output, then writes {@code manifest.json} (with the output file list, sizes
   * and, when asked, SHA-256 checksums) and finally {@code _SUCCESS}.
   */
  public void commit(Manifest manifest, boolean checksums) throws IOException {
    ArrayNode files = listOutputs(staging, checksums);
    manifest.putField("outputs", files);
    Path old = null;
    if (fs.exists(output)) {
      fs.delete(new Path(output, SUCCESS), false);
      fs.delete(new Path(output, MANIFEST), false);
      old = new Path(output.getParent(), "." + output.getName() + ".loraspace-old-" + runId);
      if (!fs.rename(output, old)) {
        throw new StateException("Cannot move the previous output '" + output + "' aside to '" + old + "'");
      }
    }
    if (!fs.rename(staging, output)) {
      if (old != null) {
        fs.rename(old, output);
      }
      throw new StateException("Cannot publish '" + staging + "' as '" + output + "'");
    }
    ObjectNode rendered = manifest.render();
    writeBytes(new Path(output, MANIFEST), Manifest.JSON.writeValueAsBytes(rendered));
    writeBytes(new Path(output, SUCCESS), new byte[0]);
    if (old != null) {
      fs.delete(old, true);
    }
  }

  /** Deletes the staging directory; the output location is untouched. Never throws. */
  public void abort() {
    try {
      fs.delete(staging, true);
    } catch (IOException | RuntimeException e) {
      LOG.warn("Could not delete staging directory {}: {}", staging, e.toString());
    }
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
