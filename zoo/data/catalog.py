"""The catalog of named benchmark datasets: files, URLs, SHA-256, citations, published numbers.

One :class:`DatasetRecord` per name. This module is pure data plus lookup; downloading lives in
:mod:`zoo.data.download` and parsing in :mod:`zoo.data.benchmarks`.

Every file is named by its *relative path in the mirror layout* (the layout of the shared
offline mirror, e.g. ``mulan/yeast/yeast-train.arff``), which is also its path inside the
download cache. Each file carries its canonical URL and its SHA-256; a file is only ever used
after its hash has been checked, whether it comes from a mirror (``ZOO_DATA_DIR``), the cache or
the network.

Sources (pinned where the host allows it):

* MULAN: ``tsoumakas/mulan`` on GitHub at commit ``43f6389095ad71984264db4387a8074b22bc7d4a``,
  folder ``data/multi-label/<name>/`` (``corel5k/`` and ``tmc2007/`` for corel5k and
  tmc2007-500). Published statistics are those of the MULAN datasets page
  (http://mulan.sourceforge.net/datasets-mlc.html); they agree with the files to the three
  decimals the page prints (checked by ``tests/test_benchmarks.py``).
* GoEmotions: ``google-research/google-research``, ``goemotions/data/`` (branch ``master``: the
  SHA-256 pins the content).
* Fashion-MNIST: the URLs ``keras.datasets.fashion_mnist.load_data`` downloads.
* Corel5k photos (``corel5k-images``): ``TonyZZX/MultiGraph_MultiLabel_Learning`` at commit
  ``5d6bf599ccf72a7c7e96ccd1696602c4d074ce0a``, folder ``Corel5k/``. Its 5,007 hashes live in
  the package manifest ``zoo/data/manifests/corel5k-images.txt`` (see
  :mod:`zoo.data.corel_images`) and are merged into :data:`SHA256` at import.
* Reuters-21578: the UCI archive ``reuters21578.tar.gz``. The archive itself is not pinned (it
  has been repacked over the years); each of the 22 SGML members is verified against its own
  SHA-256 after extraction.

Example:
    >>> from zoo.data import catalog
    >>> rec = catalog.get("yeast")
    >>> rec.num_labels, rec.split_sizes["train"], rec.published.cardinality
    (14, 1500, 4.237)
    >>> rec.files["train"][0].path
    'mulan/yeast/yeast-train.arff'
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Mapping

from zoo.errors import NotFoundError

MULAN_COMMIT = "43f6389095ad71984264db4387a8074b22bc7d4a"
MULAN_RAW_URL = ("https://raw.githubusercontent.com/tsoumakas/mulan/"
                 f"{MULAN_COMMIT}/data/multi-label/")
MULAN_STATS_URL = "http://mulan.sourceforge.net/datasets-mlc.html"
GOEMOTIONS_RAW_URL = ("https://raw.githubusercontent.com/google-research/google-research/"
                      "master/goemotions/data/")
FASHION_MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
REUTERS_ARCHIVE_URL = ("https://archive.ics.uci.edu/ml/machine-learning-databases/"
                       "reuters21578-mld/reuters21578.tar.gz")

#: SHA-256 of every file, keyed by its relative path in the mirror layout. Copied from the
#: mirror's ``SHA256SUMS``; ``tests/test_benchmarks.py`` checks the two agree.
SHA256: dict[str, str] = {
    "fashion-mnist/t10k-images-idx3-ubyte.gz":
        "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "fashion-mnist/t10k-labels-idx1-ubyte.gz":
        "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
    "fashion-mnist/train-images-idx3-ubyte.gz":
        "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "fashion-mnist/train-labels-idx1-ubyte.gz":
        "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    "goemotions/dev.tsv":
        "575489c079c9de1097062a01738f998590d6b7ead66dd1c9fd1d2ba01fd8bc62",
    "goemotions/labels.txt":
        "45c3ef86782d2a4d7fedcd6d8c111aa0d0e94720689bd164fac94fefb4495a89",
    "goemotions/test.tsv":
        "0587b2dd8b27b97352adbfc3fb083d46005c8946657fdc2b1ca8b1cc7f1f8be4",
    "goemotions/train.tsv":
        "1c254a142be5c00e80d819b9ae1bbd36d94b2eeb8f4b1271846508d57e57d9c5",
    "mulan/bibtex/bibtex-test.arff":
        "9b03329cde64d3f994bdf7fbbac3f3b10fe185c311cb9ae725475f59c7f3f922",
    "mulan/bibtex/bibtex-train.arff":
        "8dcc9de6e0b2cebaec8c1f4fac78431adeeb73cfd3ab879b530a66d366e59174",
    "mulan/bibtex/bibtex.xml":
        "08fe20013c1e75dcf1888c185f5187c95e76495b8518ce289b4d3afce38d1232",
    "mulan/corel5k/Corel5k-test-sparse.arff":
        "e8f8e9cd052c43ba7bdfdf99d242f461fc8c2a03163466d921e576887b51d8a7",
    "mulan/corel5k/Corel5k-train-sparse.arff":
        "19eb253c447144bea74ffa86b4731a56022addae2ba7d0aab72ad07fdc02e9b3",
    "mulan/corel5k/Corel5k.xml":
        "54ef6a6ccb7ca9b77524052b34b306d5d501661a5609b9d1cc7085b2b597679d",
    "mulan/delicious/delicious-test.arff":
        "2dfb01723a819914b0ca83361177ed413ce3f2169851d9f228d4692915d63944",
    "mulan/delicious/delicious-train.arff":
        "030186cdb542ebdd32052fcdbb1ebe30115b3a22518c1b4b198c45eb827aebe1",
    "mulan/delicious/delicious.xml":
        "4e0c0f93c7d86a39b9fca4aaefaa00e9428f2c80277732dfbf03ca48e2c14da2",
    "mulan/emotions/emotions-test.arff":
        "f13d4b746b7b5c8eb484bd751d6ac463d4560dff998a93516a5c1fe35daf6c8f",
    "mulan/emotions/emotions-train.arff":
        "bbe704106c79bb8fb99c1d1d2e9bde081d6a2daeb01f100862f11fd91a3c1f98",
    "mulan/emotions/emotions.xml":
        "dbce8e6ccbbb2fcbfd9e9edbb230d7ed12692c6e13f59fdbc0161fa9b6cf2dc0",
    "mulan/enron/enron-test.arff":
        "2f3aad54a8f54caaab4ab01246fe9dd385ba944a2633028f52747b57eac5474e",
    "mulan/enron/enron-train.arff":
        "2988cefc1cdf7a8004a20ef84615cc8fa1b5d7434c16687283b41454e2d9d194",
    "mulan/enron/enron.xml":
        "ed40c92d7f613eed51714912cab10dddc4ce456262137d8fef230d44c7f4457b",
    "mulan/flags/flags-test.arff":
        "09f6136fae47dcc2f0f491efd6401a11072cbfb0bfbb2666c63b35bb06aeeb16",
    "mulan/flags/flags-train.arff":
        "1861cdab7f8baf1aef6fb6198f304465ddfd99b7f9a435337c604119522df3c5",
    "mulan/flags/flags.xml":
        "7c9ed21a91b716b91f811323e20ee5a260ea2da62a5edcfeb1b91ec855a48f17",
    "mulan/genbase/genbase-test.arff":
        "0e988520bedab39aa3f23f08f646c769bcdb6f9119ee298fd92b37127b226a36",
    "mulan/genbase/genbase-train.arff":
        "37670db2c2b308a1c163d05501819526f1d65d659638ddfb76812d4ce384b5c6",
    "mulan/genbase/genbase.xml":
        "198e8a1d7070e9603119e02e626cedc589db7577339b307b06f5192047b69eb9",
    "mulan/medical/medical-test.arff":
        "6be472e75a6c0b0916187f343a398011b1b26f8f0ddc682c575312ad3532f6c4",
    "mulan/medical/medical-train.arff":
        "c764f45756ab1c553b8b4eaaf5605a5610a43bbbcf37492d0f1a12bf9c9e2244",
    "mulan/medical/medical.xml":
        "51fa9d5c09e48caff3f0a0c75db1c9aa85944f8e35451f3ad8bd56fc422286ce",
    "mulan/scene/scene-test.arff":
        "ea38d20296b3ff7e220f477a3b802a9bcb2d768881fe6ee163efbc97ea527a42",
    "mulan/scene/scene-train.arff":
        "b53ba93bdf412de922e3960389bcee24744fa3e872ce610511fc1d750888b64d",
    "mulan/scene/scene.xml":
        "55d8b247b949ad5c52e5a73d8c6775ec6e5469ce9682465b45b333b68ee4bcc5",
    "mulan/tmc2007-500/tmc2007-500-test.arff":
        "b24f9c3f1eba77c9da0bbaff093ba41d331b7351be0167a8e1e3852c62e25e38",
    "mulan/tmc2007-500/tmc2007-500-train.arff":
        "edfe7b7615c6f80e54c92a214437610d1ae36560c5cc6c4253b51c434d258273",
    "mulan/tmc2007-500/tmc2007-500.xml":
        "cb6a67c8ae72fd9b47d89f77aa5b7f6cafb4ba9c20b1124c65a95a3f2caec38d",
    "mulan/yeast/yeast-test.arff":
        "4aaac102bff9669a765bf0b378602e5cc8c3b181048282e2f003117b496d552a",
    "mulan/yeast/yeast-train.arff":
        "e759dc991ff54694a4ff9c4314f3be0d6fd2b1994a4b563f57e416394c6aebbd",
    "mulan/yeast/yeast.xml":
        "c3056cc26444b5158b1588d1b73bec9c45429e10f0957ad085903423cb81f247",
    "reuters21578/reut2-000.sgm":
        "686f5cf549930e23184bcba2328c7d01348df20f7167ff25e6d3495090c3f822",
    "reuters21578/reut2-001.sgm":
        "b7fc3231dd9f95fb53518f8d5739d41524fa8dacdb21ddb7f612d9a475c14ea1",
    "reuters21578/reut2-002.sgm":
        "99f18068d0518952987dedd78c622e5c2a584e357d264d3754696c815f3e6628",
    "reuters21578/reut2-003.sgm":
        "24c0aec30c53acfeceff6df391a278282f61febdea3852e74f1ae01af088d5bd",
    "reuters21578/reut2-004.sgm":
        "726342c19a65873330b412378cd6a3f0d512035f5223146ddd60930c62eb6ff0",
    "reuters21578/reut2-005.sgm":
        "d09de619b6dd2d047d5124681f6df90550abaf592020d1c1ce338ae9b91522e7",
    "reuters21578/reut2-006.sgm":
        "b5535c0d66b01f4976f84621a4a795afbc00d2c4bd0a1b7ae426df6630fb361d",
    "reuters21578/reut2-007.sgm":
        "aa706007ec84a03537a3921ca976d60e11b3f99e4b9e9b2d5c81dd384d2c2062",
    "reuters21578/reut2-008.sgm":
        "a3994583694a00b7c744097c1d7eabfcf90f2e6650cc21663e46828035a336cb",
    "reuters21578/reut2-009.sgm":
        "29995f606dd1a9bdf907eacc9d879846c716860d9d9141676979474aaea39c7d",
    "reuters21578/reut2-010.sgm":
        "996df6008089bd09fa5b28a4d2eb0ee5f7b9d4601cde566fed3926ac82960fa3",
    "reuters21578/reut2-011.sgm":
        "d3a2782015247d9c2bffb8926267827fdd449c70d619435ef01a25a1c56a53ca",
    "reuters21578/reut2-012.sgm":
        "da31035d483851f2aebce5b66d779e5e2c0ac9dcfe098596c6d544e81c5604ab",
    "reuters21578/reut2-013.sgm":
        "8f7700bc0455fac3fcc12377ced4807b7df8aba1f21ecad059b9cc2b1cf0b8be",
    "reuters21578/reut2-014.sgm":
        "ef936bd3e0f36cf722afa9a6957563549775af32e9e28b4f539c8737ceda83ab",
    "reuters21578/reut2-015.sgm":
        "6d3bcec73eff871b8a5403588af814c4e50a0de6bc25707480522ab836f74026",
    "reuters21578/reut2-016.sgm":
        "be2f03a185fff70131f3b4fdbd6229b7ee2be077eba9691eaa597c8cfbda8812",
    "reuters21578/reut2-017.sgm":
        "f370e610b4b1342e41a98e0c426a08541044bd1d7e539674f32372a6060b73b5",
    "reuters21578/reut2-018.sgm":
        "a5f971bf25448e915781962309e669359a35fbcaf3017a806eca0590897f209a",
    "reuters21578/reut2-019.sgm":
        "d3b07097fba2633d130b4914aceba671645985248943ce9e39c289315339dffb",
    "reuters21578/reut2-020.sgm":
        "f6ad1b724125c202566c63b35ea0b5ee23881f8b7ed47a32829d5af05d8e860d",
    "reuters21578/reut2-021.sgm":
        "3f5196d32869723c9042aa5756805b4e90360f1f45ea17f4594fa0e2b3630b18",
}


def _corel_manifest() -> dict:
    from zoo.data import corel_images
    return {corel_images.PREFIX + rel: sha for _, sha, rel in corel_images.read_manifest()}


SHA256.update(_corel_manifest())


@dataclass(frozen=True)
class FileRecord:
    """One data file.

    Attributes:
        path: relative path in the mirror / cache layout (``/`` separated).
        url: canonical download URL; for an archive member, the archive's URL.
        sha256: lowercase hex SHA-256 of the file (of the extracted member for archives).
        member: name of the file inside the archive at ``url``; ``None`` for plain files.
    """

    path: str
    url: str
    sha256: str
    member: str | None = None


@dataclass(frozen=True)
class PublishedStats:
    """Statistics as published by the dataset's curators, over the standard train + test.

    ``cardinality`` (mean number of labels per instance) and ``density`` (cardinality / labels)
    are given to the three decimals the source prints.
    """

    instances: int
    features: int
    labels: int
    cardinality: float
    density: float
    distinct_label_sets: int
    source: str = MULAN_STATS_URL


@dataclass(frozen=True)
class DatasetRecord:
    """Everything the zoo knows about one named benchmark.

    Attributes:
        name: the name :func:`zoo.data.benchmarks.load` takes.
        kind: ``"features"``, ``"text"`` or ``"image"`` (the ``MultiLabelDataset.kind``).
        num_labels: number of label columns of the loaded dataset.
        files: official split -> the files that split is read from. Always ``"train"`` and
            ``"test"``; ``"valid"`` only when the source publishes a validation split.
        split_sizes: official number of instances per split, as published.
        domain, description: one line each.
        citation: the reference to cite when reporting results on this dataset.
        license: the terms the data is distributed under.
        homepage: where the dataset is described.
        published: published summary statistics (MULAN sets), else ``None``.
        loader: which parser reads the files (``"mulan"``, ``"reuters"``, ``"goemotions"``,
            ``"fashion-canvas"``).
        notes: protocol notes and known traps.
    """

    name: str
    kind: str
    num_labels: int
    files: Mapping[str, tuple]
    split_sizes: Mapping[str, int]
    domain: str
    description: str
    citation: str
    license: str
    homepage: str
    loader: str
    published: PublishedStats | None = None
    notes: str = ""
    extra: Mapping[str, object] = field(default_factory=dict)

    @property
    def has_official_valid(self) -> bool:
        """Whether the source publishes a validation split (else ``valid`` is carved)."""
        return "valid" in self.files

    def all_files(self) -> list:
        """Every distinct file of the dataset, in a stable order."""
        seen, out = set(), []
        for files in self.files.values():
            for f in files:
                if f.path not in seen:
                    seen.add(f.path)
                    out.append(f)
        return out


def _file(path: str, url: str, member: str | None = None) -> FileRecord:
    return FileRecord(path=path, url=url, sha256=SHA256[path], member=member)


# ---------------------------------------------------------------------------------------------
# MULAN
# ---------------------------------------------------------------------------------------------
_MULAN_LICENSE = ("no licence stated by MULAN; distributed for research use in the MULAN "
                  "repository (tsoumakas/mulan, GPL-2.0 code) — check the original source's terms")
_MULAN_REF = ("Tsoumakas, Spyromitros-Xioufis, Vilcek, Vlahavas. MULAN: A Java Library for "
              "Multi-Label Learning. JMLR 12:2411-2414, 2011.")

# name: (upstream folder, file stem, domain, train, test, published stats, citation, notes)
_MULAN = {
    "emotions": (
        "emotions", "emotions", "music", 391, 202,
        PublishedStats(593, 72, 6, 1.869, 0.311, 27),
        "Trohidis, Tsoumakas, Kalliris, Vlahavas. Multi-label classification of music into "
        "emotions. ISMIR 2008.",
        "72 rhythmic and timbre features of 30 s music clips; 6 emotion labels."),
    "yeast": (
        "yeast", "yeast", "biology", 1500, 917,
        PublishedStats(2417, 103, 14, 4.237, 0.303, 198),
        "Elisseeff, Weston. A kernel method for multi-labelled classification. NIPS 2001.",
        "Gene expression / phylogenetic profile features; 14 functional classes (FunCat)."),
    "scene": (
        "scene", "scene", "image", 1211, 1196,
        PublishedStats(2407, 294, 6, 1.074, 0.179, 15),
        "Boutell, Luo, Shen, Brown. Learning multi-label scene classification. "
        "Pattern Recognition 37(9):1757-1771, 2004.",
        "294 colour moment features (LUV, 7x7 blocks); 6 scene labels."),
    "flags": (
        "flags", "flags", "image (flag traits)", 129, 65,
        PublishedStats(194, 19, 7, 3.392, 0.485, 54),
        "Goncalves, Plastino, Freitas. A genetic algorithm for optimizing the label ordering "
        "in multi-label classifier chains. ICTAI 2013.",
        "19 features (9 nominal, 10 numeric) of national flags; labels = colours present."),
    "medical": (
        "medical", "medical", "text", 333, 645,
        PublishedStats(978, 1449, 45, 1.245, 0.028, 94),
        "Pestian, Brew, Matykiewicz, Hovermale, Johnson, Cohen, Duch. A shared task involving "
        "multi-label classification of clinical free text. BioNLP 2007.",
        "Radiology reports, binary bag of words; 45 ICD-9-CM codes. Labels with no positive: "
        "7 in train, 6 in test."),
    "enron": (
        "enron", "enron", "text", 1123, 579,
        PublishedStats(1702, 1001, 53, 3.378, 0.064, 753),
        "Klimt, Yang. The Enron corpus: a new dataset for email classification research. "
        "ECML 2004 (labels: UC Berkeley Enron Email Analysis Project).",
        "E-mails, binary bag of words; 53 hierarchical categories. One label has no positive "
        "in train; some rows have no features."),
    "genbase": (
        "genbase", "genbase", "biology", 463, 199,
        PublishedStats(662, 1186, 27, 1.252, 0.046, 32),
        "Diplaris, Tsoumakas, Mitkas, Vlahavas. Protein classification with multiple "
        "algorithms. PCI 2005, LNCS 3746.",
        "Protein motif presence (nominal; the first attribute is the protein id string); "
        "27 protein classes. Many duplicated rows; most test rows repeat a train row."),
    "bibtex": (
        "bibtex", "bibtex", "text", 4880, 2515,
        PublishedStats(7395, 1836, 159, 2.402, 0.015, 2856),
        "Katakis, Tsoumakas, Vlahavas. Multilabel text classification for automated tag "
        "suggestion. ECML/PKDD 2008 Discovery Challenge.",
        "BibSonomy BibTeX entries, binary bag of words; 159 tags."),
    "corel5k": (
        "corel5k", "Corel5k", "image", 4500, 500,
        PublishedStats(5000, 499, 374, 3.522, 0.009, 3175),
        "Duygulu, Barnard, de Freitas, Forsyth. Object recognition as machine translation: "
        "learning a lexicon for a fixed image vocabulary. ECCV 2002.",
        "Corel images as 499 binary blob words; 374 keywords. 3 labels never positive in "
        "train, 111 never in test."),
    "delicious": (
        "delicious", "delicious", "text (web)", 12920, 3185,
        PublishedStats(16105, 500, 983, 19.020, 0.019, 15806),
        "Tsoumakas, Katakis, Vlahavas. Effective and efficient multilabel classification in "
        "domains with large number of labels. ECML/PKDD 2008 Workshop on Mining "
        "Multidimensional Data (MMD'08).",
        "del.icio.us bookmarks, binary bag of words; 983 tags (names kept byte-exact, some "
        "contain backslashes and broken encodings). 10 train / 4 test rows have no label."),
    "tmc2007-500": (
        "tmc2007", "tmc2007-500", "text", 21519, 7077,
        PublishedStats(28596, 500, 22, 2.158, 0.098, 1341),
        "Srivastava, Zane-Ulman. Discovering recurring anomalies in text reports regarding "
        "complex space systems. IEEE Aerospace Conference 2005.",
        "NASA aviation safety reports, the 500 most informative binary word features "
        "(MULAN's reduced version of tmc2007); 22 problem types. Some rows have no features."),
}


def _mulan_record(name, folder, stem, domain, n_train, n_test, stats, citation, notes):
    def f(fname):
        return _file(f"mulan/{name}/{fname}", f"{MULAN_RAW_URL}{folder}/{fname}")

    xml = f(f"{stem}.xml")
    suffix = "-sparse" if name == "corel5k" else ""
    return DatasetRecord(
        name=name, kind="features", num_labels=stats.labels,
        files={"train": (f(f"{stem}-train{suffix}.arff"), xml),
               "test": (f(f"{stem}-test{suffix}.arff"), xml)},
        split_sizes={"train": n_train, "test": n_test},
        domain=domain, description=notes,
        citation=f"{citation} Distributed by MULAN: {_MULAN_REF}",
        license=_MULAN_LICENSE, homepage=MULAN_STATS_URL, loader="mulan",
        published=stats,
        notes="MULAN's standard train/test split (the one published results use). "
              "No official validation split: 'valid' is carved from train.")


# ---------------------------------------------------------------------------------------------
# Reuters-21578, GoEmotions, Fashion-MNIST canvases
# ---------------------------------------------------------------------------------------------
_REUTERS_FILES = tuple(
    _file(f"reuters21578/reut2-{i:03d}.sgm", REUTERS_ARCHIVE_URL, member=f"reut2-{i:03d}.sgm")
    for i in range(22))

_GOEMOTIONS_LABELS = _file("goemotions/labels.txt", GOEMOTIONS_RAW_URL + "labels.txt")

_FASHION = {
    split: (_file(f"fashion-mnist/{prefix}-images-idx3-ubyte.gz",
                  f"{FASHION_MNIST_URL}{prefix}-images-idx3-ubyte.gz"),
            _file(f"fashion-mnist/{prefix}-labels-idx1-ubyte.gz",
                  f"{FASHION_MNIST_URL}{prefix}-labels-idx1-ubyte.gz"))
    for split, prefix in (("train", "train"), ("test", "t10k"))
}

_OTHERS = {
    "reuters21578": DatasetRecord(
        name="reuters21578", kind="text", num_labels=90,
        files={"train": _REUTERS_FILES, "test": _REUTERS_FILES},
        split_sizes={"train": 9603, "test": 3299},
        domain="text (newswire)",
        description="Reuters newswire stories of 1987, ModApte split, the 90 topics with at "
                    "least one train and one test document (R90).",
        citation="Lewis. Reuters-21578 text categorization test collection, Distribution 1.0, "
                 "1997. ModApte split: Apte, Damerau, Weiss. Automated learning of decision "
                 "rules for text categorization. ACM TOIS 12(3), 1994. R90 protocol: Yang, "
                 "Liu. A re-examination of text categorization methods. SIGIR 1999.",
        license="free for research use (Reuters Ltd. and Carnegie Group, Inc.; see the "
                "collection's README)",
        homepage="https://archive.ics.uci.edu/dataset/137/reuters+21578+text+categorization"
                 "+collection",
        loader="reuters",
        notes="split_sizes are the ModApte counts (TOPICS=YES, LEWISSPLIT TRAIN/TEST) before "
              "the 90-topic filter; documents without any of the 90 topics are then dropped. "
              "The 22 SGML files come from one tar.gz and are verified one by one."),
    "goemotions": DatasetRecord(
        name="goemotions", kind="text", num_labels=28,
        files={"train": (_file("goemotions/train.tsv", GOEMOTIONS_RAW_URL + "train.tsv"),
                         _GOEMOTIONS_LABELS),
               "valid": (_file("goemotions/dev.tsv", GOEMOTIONS_RAW_URL + "dev.tsv"),
                         _GOEMOTIONS_LABELS),
               "test": (_file("goemotions/test.tsv", GOEMOTIONS_RAW_URL + "test.tsv"),
                        _GOEMOTIONS_LABELS)},
        split_sizes={"train": 43410, "valid": 5426, "test": 5427},
        domain="text (Reddit comments)",
        description="58k Reddit comments, 27 emotions + neutral; official train/dev/test.",
        citation="Demszky, Movshovitz-Attias, Ko, Cowen, Nemade, Ravi. GoEmotions: A Dataset "
                 "of Fine-Grained Emotions. ACL 2020.",
        license="CC BY 4.0 (data); Apache-2.0 (google-research repository)",
        homepage="https://github.com/google-research/google-research/tree/master/goemotions",
        loader="goemotions",
        notes="The official dev split is the validation split. Reference: fine-tuned BERT-base "
              "reaches macro-F1 0.46 on test (28 labels).",
        extra={"reference_macro_f1_bert_base": 0.46}),
    "fashion-canvas": DatasetRecord(
        name="fashion-canvas", kind="image", num_labels=10,
        files=_FASHION,
        split_sizes={"train": 60000, "test": 10000},
        domain="image (synthetic composition)",
        description="Canvases composed of several Fashion-MNIST items; labels = the set of "
                    "item classes on the canvas.",
        citation="Xiao, Rasul, Vollgraf. Fashion-MNIST: a Novel Image Dataset for Benchmarking "
                 "Machine Learning Algorithms. arXiv:1708.07747, 2017.",
        license="MIT (Zalando Research)",
        homepage="https://github.com/zalandoresearch/fashion-mnist",
        loader="fashion-canvas",
        notes="Official splits: one canvas per source image (60000 from the train images, "
              "10000 from the test images), fixed seeds (zoo.data.fashion.DEFAULT_SEEDS). "
              "The carved validation split is made at the level of source images: 'valid' "
              "canvases are composed from a stratified share of the train images and 'train' "
              "canvases from the rest, so no item image appears in both (hence for this "
              "dataset 'train' + 'valid' is not 'train_full').",
        extra={"source_sizes": {"train": 60000, "test": 10000}}),
}


def _corel_images_record() -> DatasetRecord:
    from zoo.data import corel_images as ci

    def rec(rel):
        return _file(ci.PREFIX + rel, ci.url_for(rel))

    manifest = ci.read_manifest()
    files = {split: tuple(rec(m) for m in ci.META[split])
             + tuple(rec(rel) for role, _, rel in manifest if role == split)
             for split in ("train", "test")}
    return DatasetRecord(
        name=ci.NAME, kind="image", num_labels=ci.NUM_LABELS, files=files,
        split_sizes=dict(ci.SPLIT_SIZES),
        domain="image (photos)",
        description="5,000 Corel photos (192x128 or 128x192 JPEG) with 1-5 tags from a "
                    "260-word vocabulary; the standard image-annotation split.",
        citation="Duygulu, Barnard, de Freitas, Forsyth. Object recognition as machine "
                 "translation: learning a lexicon for a fixed image vocabulary. ECCV 2002. "
                 "Protocol (top-5 annotation, per-label P/R/F1, N+): Guillaumin, Mensink, "
                 "Verbeek, Schmid. TagProp: discriminative metric learning in nearest "
                 "neighbor models for image auto-annotation. ICCV 2009.",
        license="Corel stock photos, distributed for research and study only; never "
                "redistribute or commit them",
        homepage=f"https://github.com/TonyZZX/MultiGraph_MultiLabel_Learning/tree/"
                 f"{ci.COMMIT}/Corel5k",
        loader="corel5k-images",
        notes="x is the list of absolute JPEG paths (decoded by the input pipeline, "
              "zoo.data.images.image_dataset). Labels in corel5k_words.txt order; every label "
              "has >= 1 train and >= 1 test positive; 7 train images have no tag. One photo "
              "(121000/121060.jpeg) is in neither list and unused. No official validation "
              "split: 'valid' is carved from the 4,500 train images. Report the annotation "
              "metrics (annot_top5_*: zoo.metrics.annotation_metrics) to compare with the "
              "literature.",
        extra={"metric_groups": ("annotation",),
               "published_results": "results/published/corel5k-images.json",
               "unlisted_files": tuple(rec(rel) for role, _, rel in manifest
                                       if role == "unlisted"),
               "derived_files": tuple(ci.PREFIX + rel for role, _, rel in manifest
                                      if role == "derived"),
               "derived_note": "train.csv / test.csv exist only in the shared mirror (made "
                               "from the annotation files); the loader does not read them."})


_OTHERS["corel5k-images"] = _corel_images_record()

CATALOG: dict[str, DatasetRecord] = {
    name: _mulan_record(name, *spec) for name, spec in _MULAN.items()}
CATALOG.update(_OTHERS)

MULAN_NAMES = tuple(_MULAN)


def names() -> list[str]:
    """All dataset names, MULAN sets first, in catalog order."""
    return list(CATALOG)


def get(name: str) -> DatasetRecord:
    """The record of dataset ``name``; an unknown name raises ``NotFoundError`` listing the
    known ones (and the closest matches)."""
    try:
        return CATALOG[name]
    except KeyError:
        close = difflib.get_close_matches(str(name), CATALOG, n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise NotFoundError(f"unknown dataset {name!r}.{hint} Known datasets: "
                            f"{', '.join(CATALOG)}") from None
