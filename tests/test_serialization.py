"""One JSON convention for every ``to_dict``.

The mixin's rules, and every result class on real inputs.
"""

import dataclasses
import importlib
import json
import math
import pkgutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import sip_theory
from sip_theory._serialization import ToDictMixin, finite_or_none, to_jsonable


def json_safe(d):
    """``d`` passes ``json.dumps(allow_nan=False)`` and equals its own JSON round trip."""
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text) == d
    return text


# ------------------------------------------------------------------------------ the rules
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_float_is_itself_none_or_an_inf_string(x):
    out = to_jsonable(x)
    if math.isnan(x):
        assert out is None
    elif math.isinf(x):
        assert out == ("inf" if x > 0 else "-inf")
    else:
        assert out == x and type(out) is float
    json_safe({"x": out})
    assert finite_or_none(out) == finite_or_none(x)  # readers lose nothing they used


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int8, np.int32,
                                   np.int64, np.uint8, np.uint64, np.bool_])
def test_numpy_scalars_become_python_scalars(dtype):
    for v in (0, 1):
        out = to_jsonable(dtype(v))
        assert type(out) is {"f": float, "i": int, "u": int, "b": bool}[np.dtype(dtype).kind]
        assert out == v
    if np.dtype(dtype).kind == "f":
        assert to_jsonable(dtype("nan")) is None and to_jsonable(-dtype("inf")) == "-inf"


def test_keys_become_strings_as_json_writes_them():
    d = {np.int64(3): 1, 2: 2, "a": 3, True: 4, 0.5: 5, None: 6}
    assert to_jsonable(d) == json.loads(json.dumps({3: 1, 2: 2, "a": 3, True: 4, 0.5: 5, None: 6}))
    with pytest.raises(TypeError, match="mapping key"):
        to_jsonable({(1, 2): 0})
    with pytest.raises(TypeError, match="mapping key"):
        to_jsonable({float("nan"): 0})


def test_arrays_tuples_and_nesting():
    a = np.array([[1.0, np.nan], [np.inf, -np.inf]])
    assert to_jsonable(a) == [[1.0, None], ["inf", "-inf"]]
    assert to_jsonable(np.array(2.5)) == 2.5 and to_jsonable(np.array([], dtype=np.int64)) == []
    assert to_jsonable(np.array(["a", "b"])) == ["a", "b"]
    assert to_jsonable((1, (np.int32(2), [np.float32(0.5)]))) == [1, [2, [0.5]]]
    assert to_jsonable({"a": {"b": np.arange(2)}}) == {"a": {"b": [0, 1]}}
    assert to_jsonable(Path("x") / "y") == str(Path("x") / "y")


@pytest.mark.parametrize("bad", [{1, 2}, 1 + 2j, object(), b"bytes"])
def test_what_json_cannot_hold_is_refused(bad):
    with pytest.raises(TypeError, match="cannot write"):
        to_jsonable(bad)


_scalars = st.one_of(
    st.none(), st.booleans(), st.text(max_size=5), st.integers(-10**6, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-100, 100).map(np.int64), st.floats(width=32).map(np.float32),
    hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=3),
               elements=st.floats(allow_nan=True, allow_infinity=True)),
)
_keys = st.one_of(st.text(max_size=4), st.integers(-50, 50), st.integers(0, 50).map(np.int64))
_nested = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.tuples(inner, inner),
                            st.dictionaries(_keys, inner, max_size=3)),
    max_leaves=12,
)


@given(_nested)
def test_any_nesting_is_json_safe_and_a_fixed_point(value):
    out = to_jsonable(value)
    json_safe({"v": out})
    assert to_jsonable(out) == out


@dataclasses.dataclass(frozen=True)
class _Inner(ToDictMixin):
    score: float


@dataclasses.dataclass(frozen=True)
class _Outer(ToDictMixin):
    margin: float
    inner: _Inner
    per_node: np.ndarray
    counts: dict

    _to_dict_exclude = ("per_node",)
    _to_dict_extra = ("realized",)

    @property
    def realized(self) -> bool:
        return self.margin > 0


@dataclasses.dataclass(frozen=True)
class _Typo(ToDictMixin):
    a: int

    _to_dict_exclude = ("b",)


def test_mixin_fields_exclusions_extras_and_nested_results():
    r = _Outer(math.inf, _Inner(float("nan")), np.zeros(5), {np.int64(1): np.float64(0.5)})
    d = r.to_dict()
    assert d == {"margin": "inf", "inner": {"score": None}, "counts": {"1": 0.5},
                 "realized": True}
    assert list(d) == ["margin", "inner", "counts", "realized"]
    json_safe(d)
    with pytest.raises(AttributeError, match="names no field"):
        _Typo(1).to_dict()


# ------------------------------------------------------------------- every result class
X4 = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0], [6.0, 0.0]])
E2 = [(0, 1), (2, 3)]
Y2 = [0, 0, 1, 1]
Y1 = [0, 0, 0, 0]
X5 = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0], [6.0, 0.0], [9.0, 1.0]])
E5 = [(0, 1), (2, 3)]  # node 4 isolated
Y5 = [0, 0, 1, 1, 1]
X20 = np.random.default_rng(0).normal(size=(20, 3))
Y20 = [0] * 10 + [1] * 10
E20 = [(i, i + 1) for i in range(19)]
KN4 = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]


def build_cases():
    """name -> (callable returning a result, to_dict keyword arguments)."""
    import sip_theory.data as D
    import sip_theory.geometry as Ge
    import sip_theory.graphs as G
    import sip_theory.losses as L
    import sip_theory.theory as T
    from sip_theory.experiments import ExperimentSpec, RunSpec
    from sip_theory.models import TrainerConfig, TransformerConfig

    def empty(n):
        return G.empty_graph(n)

    def stats():
        import torch
        pairs = L.sample_pairs(E2, seed=0).global_pairs()
        return L.contrastive_margin_loss(torch.tensor(X4, dtype=torch.float32), pairs,
                                         return_stats=True)[1]

    c = {
        # geometry
        "retrieval": lambda: Ge.link_retrieval(X4, E2, ks=(1, 2)),
        "retrieval_isolated": lambda: Ge.link_retrieval(X5, E5, ks=(1,)),
        "retrieval_isolated_zero": lambda: Ge.link_retrieval(X5, E5, ks=(1,), isolated="zero"),
        "retrieval_empty": lambda: Ge.link_retrieval(X4, empty(4), ks=(1,)),
        "sampled_retrieval": lambda: Ge.sampled_link_retrieval(X4, E2, num_negatives=2,
                                                               ks=(1,)),
        "recall": lambda: Ge.measure_recall(X4, np.array([[1], [0], [3], [2]]), sample=4),
        # built by hand: approximate_knn needs the optional faiss
        "approximate": lambda: Ge.ApproximateNeighbors(
            distances=np.ones((4, 1)), indices=np.array([[1], [0], [3], [2]]),
            recall=Ge.measure_recall(X4, np.array([[1], [0], [3], [2]]), sample=4),
            method="ivf", params={"nlist": 1, "nprobe": 1}, k=1, metric="euclidean"),
        "estimated_report": lambda: Ge.estimated_geometry_report(
            X4, E2, Y2, approximate=None, k=1, vote_k=1, spread_sample=4),
        "recovery": lambda: Ge.graph_recovery(X4, E2),
        "recovery_knn": lambda: Ge.graph_recovery(X4, E2, knn_k=1),
        "recovery_empty": lambda: Ge.graph_recovery(X4, empty(4)),
        "recovery_complete": lambda: Ge.graph_recovery(X4, KN4),
        "knn_probe": lambda: Ge.knn_probe(X4, Y2, k=1),
        "knn_probe_single_class": lambda: Ge.knn_probe(X4, Y1, k=1),
        "knn_probe_str_labels": lambda: Ge.knn_probe(X4, ["a", "a", "b", "b"], k=1),
        "linear_probe": lambda: Ge.linear_probe(X20, Y20, seed=0),
        "linear_probe_cv": lambda: Ge.linear_probe(X20, Y20, cv=2, seed=0),
        "lc_comparison": lambda: Ge.knn_local_consistency(X4, Y2, E2, k=1),
        "lc_comparison_nograph": lambda: Ge.knn_local_consistency(X4, Y2, k=1),
        "lc_comparison_single_class": lambda: Ge.knn_local_consistency(X5, [0] * 5, E5, k=1),
        "trust": lambda: Ge.neighborhood_preservation(X20, X20[:, :2], k=2),
        "report_full": lambda: Ge.geometry_report(X20, E20, Y20, inputs=X20, k=2, ks=(1, 2),
                                                  histogram_bins=4, seed=0),
        "report_bare": lambda: Ge.geometry_report(X4, k=1, ks=(1,), histogram_bins=2),
        "comparison": lambda: Ge.compare_embeddings({"a": X20, "b": X20[::-1]}, E20, Y20, k=2,
                                                    ks=(1, 2), histogram_bins=4,
                                                    linear_options={"cv": 2}),
        "comparison_bare": lambda: Ge.compare_embeddings([X4, X4 + 1.0], k=1, ks=(1,),
                                                         histogram_bins=2),
        "report_isolated_single": lambda: Ge.geometry_report(X5, E5, [0] * 5, k=1, ks=(1,),
                                                             linear=False, histogram_bins=2),
        "report_empty_graph": lambda: Ge.geometry_report(X4, empty(4), Y2, k=1, ks=(1,),
                                                         linear=False, histogram_bins=2),
        # theory
        "robust": lambda: T.robust_theorem1(X4, E2, Y2),
        "robust_isolated": lambda: T.robust_theorem1(X5, E5, Y5),
        "robust_empty": lambda: T.robust_theorem1(X4, empty(4), Y2),
        "robust_radius": lambda: T.robust_theorem1(X4, E2, Y2, radius=2.0),
        "bound_spectral": lambda: T.spectral_probe_bound(E2 + [(1, 2)], Y2, 2),
        "bound_spectral_inf": lambda: T.spectral_probe_bound(E2, Y2, 1),
        "bound_spectral_nan": lambda: T.spectral_probe_bound(empty(4), Y2, 1),
        "bound_mean_one_class": lambda: T.mean_classifier_bound(X4, Y1),
        "bound_mean": lambda: T.mean_classifier_bound(X20, Y20),
        "bound_ncm": lambda: T.ncm_cantelli_bound(X20, Y20),
        "identity": lambda: T.haochen_identity(E2, X4),
        "identity_empty": lambda: T.haochen_identity(empty(4), X4),
        "separability": lambda: T.linear_separability(X4, Y2),
        "separability_single": lambda: T.linear_separability(X4, Y1),
        "clique_purity": lambda: T.clique_purity([0, 0, 1, 1], [0, 1, 1, 1]),
        "clique_purity_single": lambda: T.clique_purity([0, 0, 0], [0, 0, 0]),
        "clique_purity_no_ft": lambda: T.clique_purity([0, 1], [5, 6]),
        "tube": lambda: T.boundary_tube_estimate(0.1, 1.0, 1.0, mean_degree=3.0),
        "lc": lambda: T.local_consistency(E2, Y2),
        "lc_concentration": lambda: T.lc_concentration(E2, n_nodes=4),
        "lc_concentration_empty": lambda: T.lc_concentration(empty(4), isolated="wrong"),
        "lc_concentration_generative": lambda: T.lc_concentration_generative(
            100, 3, exceed_prob=0.01),
        "knn_vs_lc": lambda: T.knn_vs_lc(X4, E2, Y2, 1),
        "knn_vs_lc_empty": lambda: T.knn_vs_lc(X4, empty(4), Y2, 1),
        "lc_isolated": lambda: T.local_consistency(E5 + [(1, 2)], Y5),
        "lc_empty": lambda: T.local_consistency(empty(4), Y2),
        "lc_per_node": (lambda: T.local_consistency(E5 + [(1, 2)], Y5), {"per_node": True}),
        "permissible": lambda: T.is_permissible(T.ContrastiveMarginSpec(0.0, 1.0), E2),
        "permissible_ms": lambda: T.is_permissible(T.MultiSimilaritySpec(2.0, 50.0, 0.5), E2),
        "threshold_cm": lambda: T.contrastive_margin_threshold(0.0, 1.0, 4),
        "threshold_ms": lambda: T.multi_similarity_threshold(2.0, 50.0, 0.5, 4),
        "sphericity": lambda: T.estimate_sphericity(E2, max_dim=2, n_restarts=1, max_steps=50),
        "unit_interval": lambda: T.unit_interval_recognition(E20),
        "unit_interval_claw": lambda: T.unit_interval_recognition([(0, 1), (0, 2), (0, 3)]),
        "line": lambda: T.max_margin_line(E20),
        "line_cliques": lambda: T.max_margin_line(E2),
        "margin_line": lambda: T.max_margin_realization(E5, 1),
        "margin_none": lambda: T.max_margin_realization([(0, 1), (0, 2), (0, 3)], 1),
        "theorem1": lambda: T.check_theorem1(X4, E2, Y2),
        "theorem1_isolated": lambda: T.check_theorem1(X5, E5, Y5),
        "theorem1_empty": lambda: T.check_theorem1(X4, empty(4), Y2),
        "theorem1_complete": lambda: T.check_theorem1(X4, KN4, Y2),
        "recovery_report": lambda: T.recovery_margin(X4, E2),
        "recovery_report_empty": lambda: T.recovery_margin(X4, empty(4)),
        "recovery_report_complete": lambda: T.recovery_margin(X4, KN4),
        "vote_score": lambda: T.RadiusMajorityVote(2.0).fit(X4, Y2).score(),
        "vote_score_far": lambda: T.RadiusMajorityVote(0.5).fit(X4, Y2).score(),
        # graphs
        "split": lambda: G.split_edges(E20, test_fraction=0.2, val_fraction=0.1, seed=0),
        "split_noedges": (lambda: G.split_edges(E20, test_fraction=0.2, val_fraction=0.1, seed=0),
                          {"edges": False}),
        "triangulation": lambda: G.triangulation("torus"),
        # data
        "synthetic": lambda: D.make_cliques_dataset(seed=0, n_pt=12, n_ft=6, n_topics=3),
        "topic_corpus": lambda: D.make_topic_corpus(2, seed=0, n_words=8),
        "char_corpus": lambda: D.make_character_corpus(2, seed=0),
        # losses
        "pairs": lambda: L.sample_pairs(E5, seed=0),
        "loss_stats": stats,
        # models
        "trainer_config": lambda: TrainerConfig(),
        "trainer_config_kw": lambda: TrainerConfig(si_loss_kwargs={"neg_margin": 2.0},
                                                   betas=(0.8, 0.9)),
        "transformer_config": lambda: TransformerConfig(vocab_size=10),
        # experiments
        "run_spec": lambda: RunSpec("e", "t", "a", np.int64(3), {"lr": 0.1, "sizes": [1, 2]}),
        "experiment_spec": lambda: ExperimentSpec("e", "t", {"lr": 0.1}, {"a": {"x": 1}}, (0, 1)),
    }
    return {k: (v if isinstance(v, tuple) else (v, {})) for k, v in c.items()}


CASES = build_cases()

_RETRIEVAL = "ap_micro isolated lrap metric mrr n_isolated n_queries ndcg precision_at recall_at"
_RECOVERY = ("auroc average_precision best_f1 best_f1_radius knn_k knn_mode "
             "knn_precision knn_recall margin max_linked metric min_unlinked min_violations "
             "min_violations_radius n_edges n_pairs precision radius realized recall")
_LC_CMP = ("classes edge_homophily_embedding edge_homophily_graph gap isolated k lc_embedding "
           "lc_graph mode n_unlabeled per_class_lc_embedding per_class_lc_graph ties")
_LC = ("auxiliary isolated n_evaluated n_isolated n_tied n_unique n_unlabeled n_wrong ties "
       "value vote")
_SPLIT = ("n_pt_edges n_pt_isolated n_test_edges n_val_edges pt_graph_hash seed test_edges "
          "test_edges_sha256 test_fraction val_edges val_edges_sha256 val_fraction keep_every_node")
#: the keys of each class's to_dict (those it had before the mixin)
KEYS = {
    "LinkRetrievalResult": _RETRIEVAL,
    "GraphRecoveryResult": _RECOVERY,
    "KNNProbeResult": (
        "accuracy classes k macro_auroc metric n_unlabeled n_voted per_class_accuracy protocol "
        "weights"
    ),
    "LinearProbeResult": (
        "C accuracy accuracy_sd fold_accuracies macro_auroc n_test n_train protocol "
        "standardize"
    ),
    "LCComparison": _LC_CMP,
    "SampledRetrievalResult": (
        "confidence edge_auroc edge_auroc_exact edge_auroc_hw hits_at hits_at_hw lrap lrap_hw "
        "metric mrr mrr_hw n_clipped n_edge_pairs n_edges n_eligible n_isolated n_nodes "
        "n_nonedge_pairs n_queries n_query_edges n_without_candidates node_auroc "
        "node_auroc_hw num_negatives seed"),
    "RecallEstimate": "confidence half_width k metric n_queries n_sampled recall seed",
    "ApproximateNeighbors": "k method metric params recall",
    "EstimatedGeometryReport": (
        "index_params k knn_accuracy lc metric n_features n_samples n_short_votes n_unlabeled "
        "n_spread_zero_rows neighbors rankme recall retrieval seed settings spread_sample "
        "timings uniformity "
        "vote_k"),
    "NeighborhoodPreservation": "continuity input_metric k metric trustworthiness",
    "EmbeddingComparison": "better columns groups labels names reference rows settings",
    "GeometryReport": ("alignment cdnv consistency data histogram homophily knn_probe "
                       "linear_probe package_version schema_version "
                       "metric n_features n_samples nc1 neighborhood rankme recovery retrieval "
                       "settings theorem1 timings uniformity uniformity_t"),
    "RobustTheorem1": ("gap lc lower margin n_can_gain n_can_lose n_evaluated n_touched "
                       "n_violating_pairs radius realized touched_bound upper vote_accuracy"),
    "Bound": "assumptions details name reference rounding vacuous value",
    "IdentityCheck": "holds lhs name reference residual rhs",
    "CliquePurity": ("equality_guaranteed isolated leads majority pt_classes purity purity_bound "
                     "self_exclusion sizes ties value"),
    "Separability": "certified margin_lower margin_upper message separable status",
    "TubeEstimate": ("area boundary_length constant local_consistency mean_degree radius "
                     "reference ties tube_fraction value"),
    "LocalConsistencyResult": _LC,
    "KNNvsLC": ("bound isolated k knn_accuracy lc lower metric n_evaluated n_tied_at_k "
                "n_unguaranteed ties upper weights"),
    "LCConcentration": ("crude_half_width crude_sum_sq delta exceed_prob half_width max_degree "
                        "n_evaluated setting sum_sq"),
    "PermissibilityReport": ("attainability loss optimum_exists params permissible reason "
                             "recovery_below_level reference threshold verdict witness_loss"),
    "Threshold": "loss_level metric per_anchor radius reference",
    "SphericityEstimate": "certificate exact lower_bound radius trials upper_bound",
    "UnitIntervalResult": "certificate is_unit_interval obstruction obstruction_nodes ordering",
    "LineRealization": "max_linked min_unlinked ratio ratio_fraction",
    "MarginRealization": "dim max_linked method min_unlinked optimal ratio realized",
    "Theorem1Check": ("identity_holds isolated local_consistency metric radius recovery "
                      "rnn_accuracy robust ties"),
    "RecoveryReport": ("best_f1 best_f1_radius margin max_linked metric min_unlinked "
                       "min_violations min_violations_radius n_edges n_pairs radius realized"),
    "RadiusVoteScore": "isolated metric n_evaluated n_isolated radius ties value",
    "EdgeSplit": _SPLIT,
    "Triangulation": "name side triangles",
    "SyntheticDataset": ("config edges extras ft_nodes graph_hash labels n_nodes name pt_nodes "
                         "self_loops task topic_mixtures"),
    "TopicCorpus": "config special_tokens topics",
    "CharacterTopicCorpus": ("background background_words config content_words settings topics "
                             "vocabulary"),
    "PairSample": ("anchors n_negative_fallbacks n_without_negative n_without_positive "
                   "negative_fallback negatives positives"),
    "LossStats": ("empty_neg empty_pos n_anchors n_anchors_without_neg n_anchors_without_pos "
                  "n_neg_pairs n_pos_pairs"),
    "TrainerConfig": ("anchors batch_size betas checkpoint_every checkpoint_path device epochs eps "
                      "eval_every grad_clip lambda_si lr max_steps mixed_precision "
                      "n_masked_copies negatives progress sampler seed si_loss si_loss_kwargs "
                      "positives k_pos k_neg band_metric "
                      "weight_decay"),
    "TransformerConfig": ("attention_dropout cls_token_id dropout ffn_size hidden_size init_std "
                          "kernel layer_norm_eps mask_token_id max_len n_heads n_layers n_special "
                          "pad_token_id pooling prepend_cls vocab_size"),
    "RunSpec": "arm experiment params seed task",
    "ExperimentSpec": "arms name params seeds task",
}
#: case -> keys left out (optional fields not computed) or added (options of to_dict)
KEY_CHANGES = {
    "lc_comparison_nograph": ({"per_class_lc_graph"}, set()),
    "lc_per_node": (set(), {"credit"}),
    "split_noedges": ({"test_edges", "val_edges"}, set()),
}


@pytest.fixture(scope="module")
def results():
    with np.errstate(all="ignore"):  # the empty-graph cases divide by a zero volume
        return {name: (make(), kw) for name, (make, kw) in CASES.items()}


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_result_is_json_safe_with_its_keys(results, name):
    obj, kw = results[name]
    d = obj.to_dict(**kw)
    json_safe(d)
    left_out, added = KEY_CHANGES.get(name, (set(), set()))
    assert set(d) == (set(KEYS[type(obj).__name__].split()) - left_out) | added


def _result_classes():
    """Every class in the package that defines ``to_dict``."""
    out = {}
    for mod in pkgutil.walk_packages(sip_theory.__path__, "sip_theory."):
        try:
            m = importlib.import_module(mod.name)
        except ImportError:  # an optional dependency
            continue
        for obj in vars(m).values():
            if (isinstance(obj, type) and obj.__module__ == m.__name__ and "to_dict" in dir(obj)
                    and obj is not ToDictMixin):
                out[obj.__name__] = obj
    return out


def test_every_to_dict_is_the_mixin_and_is_covered(results):
    classes = _result_classes()
    assert set(classes) == set(KEYS)
    assert all(issubclass(c, ToDictMixin) and dataclasses.is_dataclass(c)
               for c in classes.values())
    assert {type(obj).__name__ for obj, _ in results.values()} == set(KEYS)


def test_the_convention_on_undefined_and_infinite_values(results):
    def d(name):
        obj, kw = results[name]
        return obj.to_dict(**kw)

    # no edge / no non-edge: infinite gaps are "inf" strings, undefined scores None
    rec = d("recovery_empty")
    assert rec["margin"] == "inf" and rec["max_linked"] == "-inf"
    assert rec["auroc"] is None and rec["best_f1"] == 1.0  # theory's: realized, F1 = 1
    assert d("recovery_complete")["min_unlinked"] == "inf"
    assert d("recovery_report_empty")["max_linked"] == "-inf"
    assert d("theorem1_empty")["local_consistency"] is None
    # a vacuous bound is "inf"; its undefined detail None (was "nan")
    assert d("bound_spectral_inf")["value"] == "inf"
    assert d("bound_spectral_nan")["details"]["phi"] is None
    assert d("identity_empty")["lhs"] is None and d("identity_empty")["residual"] is None
    # one class, isolated nodes, empty graphs
    assert d("knn_probe_single_class")["macro_auroc"] is None
    assert d("lc_empty")["value"] is None and d("lc_per_node")["credit"][4] is None
    assert d("retrieval_empty")["lrap"] is None
    assert d("retrieval")["precision_at"] == {"1": 1.0, "2": 0.5}
    assert d("knn_probe_str_labels")["classes"] == ["a", "b"]
    assert d("run_spec")["seed"] == 3 and type(d("run_spec")["seed"]) is int
    # a nested result is written by its own to_dict
    assert d("theorem1")["recovery"] == results["theorem1"][0].recovery.to_dict()
    rep = d("report_full")
    assert rep["recovery"] == results["report_full"][0].recovery.to_dict()
    assert set(rep["retrieval"]["curve"]) == {"k", "precision", "recall"}


def test_readers_take_the_numbers_back():
    from sip_theory.experiments._summary_tools import finite
    from sip_theory.geometry._common import finite_or_none as geometry_finite

    for f in (finite, geometry_finite):
        assert f is finite_or_none
    assert [finite_or_none(x) for x in ("inf", "-inf", None, 0.5, np.float32(2))] == \
        [None, None, None, 0.5, 2.0]


def test_the_experiment_specs_are_json_fixed_points():
    from sip_theory.experiments import calibration_specs, cora_spec, profile_specs, theorem_specs

    specs = [s for p in ("quick", "smoke") for s in profile_specs(p)]
    specs += theorem_specs(smoke=True) + [cora_spec()] + calibration_specs(smoke=True)
    for spec in specs:
        json_safe(spec.to_dict())
        for run in spec.runs():
            json_safe(run.to_dict())  # a stored record's config compares equal to it
