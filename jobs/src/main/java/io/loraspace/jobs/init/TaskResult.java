package io.loraspace.jobs.init;

import io.loraspace.common.io.Dtype;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/** What a task sends back: per variant, where its parts are and the module's report (JSON text). */
final class TaskResult implements Serializable {
  private static final long serialVersionUID = 1L;

  String module;
  Method method;
  double seconds;
  String solver;
  List<Variant> variants = new ArrayList<>();

  static final class Variant implements Serializable {
    private static final long serialVersionUID = 1L;
    String tag;
    int r;
    int in;
    int out;
    double scaling;
    /** Adapter part: A (r×in, row-major) then B (out×r) in {@code adapterDtype}. */
    String partFile;
    long aBytes;
    long bBytes;
    Dtype adapterDtype;
    /** Residual shard (null without residual). */
    String residualFile;
    String residualTensor;
    Dtype residualDtype;
    long residualBytes;
    /** EVA: explained-variance ratios of the computed components (for the redistribution). */
    double[] ratios;
    String reportJson;
  }
}
