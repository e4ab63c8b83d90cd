use rstest::rstest;
use serde_json::json;

use super::*;

/// `(line, metadata.name)` of every object read from `text`.
fn lines_and_names(text: &str) -> Vec<(usize, String)> {
    located_documents(text)
        .unwrap()
        .into_iter()
        .map(|d| {
            let name = d.value["metadata"]["name"]
                .as_str()
                .unwrap_or("?")
                .to_owned();
            (d.line, name)
        })
        .collect()
}

fn pairs(expected: &[(usize, &str)]) -> Vec<(usize, String)> {
    expected
        .iter()
        .map(|(l, n)| (*l, (*n).to_owned()))
        .collect()
}

#[test]
fn several_documents_with_comments_and_empty_ones() {
    let text = "# leading comment\n---\nkind: A\nmetadata: {name: a}\n---\n# only a comment\n---\n\n---\n\n  # indented comment\nkind: B\nmetadata:\n  name: b\n...\n---\nkind: C\nmetadata: {name: c}\n";
    assert_eq!(
        lines_and_names(text),
        pairs(&[(3, "a"), (12, "b"), (17, "c")])
    );
}

#[test]
fn a_document_marker_with_content_on_its_line() {
    let text =
        "--- {kind: A, metadata: {name: a}}\n--- # a comment\nkind: B\nmetadata: {name: b}\n";
    assert_eq!(lines_and_names(text), pairs(&[(1, "a"), (3, "b")]));
}

#[test]
fn block_scalars_holding_dashes_do_not_split_documents() {
    let text = "kind: ConfigMap\nmetadata: {name: a}\ndata:\n  script: |\n    ----\n    echo ---\n---\nkind: B\nmetadata: {name: b}\n";
    let documents = located_documents(text).unwrap();
    assert_eq!(documents.len(), 2);
    assert_eq!(documents[0].value["data"]["script"], "----\necho ---\n");
    assert_eq!(documents[1].line, 8);
}

#[test]
fn the_items_of_a_kubectl_list_keep_their_own_lines() {
    let text = "apiVersion: v1\nitems:\n- apiVersion: documentdb.io/preview\n  kind: DocumentDB\n  metadata:\n    name: a\n  spec:\n    list:\n    - x\n    - y\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: b}\nkind: List\nmetadata:\n  resourceVersion: \"\"\n";
    assert_eq!(lines_and_names(text), pairs(&[(3, "a"), (11, "b")]));
}

#[test]
fn indented_list_items_and_a_list_after_other_documents() {
    let text = "kind: X\nmetadata: {name: x}\n---\nkind: List\nitems:\n  - kind: A\n    metadata: {name: a}\n  # between\n  - kind: B\n    metadata: {name: b}\n";
    assert_eq!(
        lines_and_names(text),
        pairs(&[(1, "x"), (6, "a"), (9, "b")])
    );
}

#[test]
fn json_lists_arrays_and_streams() {
    let list = "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\",\n  \"metadata\": {\"x\": [\"items\"]},\n  \"items\": [\n    {\"kind\": \"A\", \"metadata\": {\"name\": \"a\", \"l\": [1, {\"z\": \"]\"}]}},\n    {\n      \"kind\": \"B\", \"metadata\": {\"name\": \"b\"}\n    }\n  ]\n}\n";
    assert_eq!(lines_and_names(list), pairs(&[(6, "a"), (7, "b")]));
    let array = "[\n{\"kind\": \"A\", \"metadata\": {\"name\": \"a\"}},\n\n{\"kind\": \"B\", \"metadata\": {\"name\": \"b\"}}]";
    assert_eq!(lines_and_names(array), pairs(&[(2, "a"), (4, "b")]));
    let stream = "{\"kind\": \"A\", \"metadata\": {\"name\": \"a\"}}\n\n{\"kind\": \"B\",\n \"metadata\": {\"name\": \"b\"}}\n";
    assert_eq!(lines_and_names(stream), pairs(&[(1, "a"), (3, "b")]));
}

#[test]
fn nested_lists_are_flattened() {
    let text = "kind: List\nitems:\n- kind: List\n  items:\n  - kind: A\n    metadata: {name: a}\n  - kind: B\n    metadata: {name: b}\n- kind: C\n  metadata: {name: c}\n";
    // The inner List's items share its line.
    assert_eq!(
        lines_and_names(text),
        pairs(&[(3, "a"), (3, "b"), (9, "c")])
    );
}

/// How many objects, and how many lists (an empty List is an answer, a
/// comment that mentions items is not).
#[rstest]
#[case::empty("", 0, 0)]
#[case::comments_only("# one\n# two\n", 0, 0)]
#[case::a_comment_about_items("# items: none yet\n", 0, 0)]
#[case::markers_only("---\n---\n...\n", 0, 0)]
#[case::empty_list("apiVersion: v1\nkind: List\nitems: []\n", 0, 1)]
#[case::null_items("kind: List\nitems:\n", 0, 1)]
#[case::empty_json_array("[]", 0, 1)]
#[case::nested_empty_list("kind: List\nitems:\n- kind: List\n  items: []\n", 0, 2)]
#[case::a_key_named_items("kind: ConfigMap\ndata:\n  items: x\n", 1, 0)]
#[case::scalar_document("just text\n", 1, 0)]
fn what_holds_no_object(#[case] text: &str, #[case] objects: usize, #[case] lists: usize) {
    let documents = read_documents(text).unwrap();
    assert_eq!((documents.objects.len(), documents.lists), (objects, lists));
}

#[rstest]
#[case::yaml_error_in_the_second_document(
    "kind: A\n---\nkind: B\nspec: [unclosed\n",
    Some(5),
    "not valid YAML: did not find expected ',' or ']' at line 5 column 1, while parsing a flow sequence at line 4 column 7"
)]
#[case::json_error(
    "{\n  \"kind\": \n}",
    Some(3),
    "not valid JSON: expected value at line 3 column 1 (JSON exactly as the API server reads it)"
)]
#[case::template_placeholder(
    "kind: A\n---\nmetadata:\n  name: {{NAME}}\n",
    Some(3),
    "cannot be read as a Kubernetes object: key must be a string (an unrendered template placeholder such as {{NAME}}?)"
)]
#[case::list_items_not_an_array(
    "kind: List\nitems: 3\n",
    Some(1),
    "the items of a List must be an array, not a number"
)]
#[case::tab_indentation(
    "kind: A\nspec:\n\tx: 1\n",
    Some(3),
    "not valid YAML: found character that cannot start any token at line 3 column 1, while scanning for the next token"
)]
fn unreadable_text_names_the_line(
    #[case] text: &str,
    #[case] line: Option<usize>,
    #[case] message: &str,
) {
    let error = located_documents(text).unwrap_err();
    assert_eq!(
        (error.line, error.problem.message()),
        (line, message.to_owned())
    );
}

#[test]
fn merge_keys_apply_as_in_kubectl() {
    let text = "base: &base {a: 1}\nkind: A\nspec:\n  <<: *base\n  b: 2\n";
    let documents = located_documents(text).unwrap();
    assert_eq!(documents[0].value["spec"], json!({"a": 1, "b": 2}));
}

/// The page names the input instead of a file and line.
#[rstest]
#[case::json(
    Unreadable::Json("expected value at line 1 column 2".to_owned()),
    "the desired manifest is not valid JSON: expected value at line 1 column 2 (JSON exactly as the API server reads it)"
)]
#[case::yaml(
    Unreadable::Yaml("did not find expected node content at line 2 column 1".to_owned()),
    "the desired manifest is not valid YAML: did not find expected node content at line 2 column 1"
)]
#[case::not_an_object(
    Unreadable::NotAnObject("key must be a string".to_owned()),
    "the desired manifest cannot be read as a Kubernetes object: key must be a string (an unrendered template placeholder such as {{NAME}}?)"
)]
#[case::list_items(
    Unreadable::ListItems("a number"),
    "the desired manifest: the items of a List must be an array, not a number"
)]
fn unreadable_text_about_a_named_input(#[case] problem: Unreadable, #[case] expected: &str) {
    assert_eq!(problem.about("the desired manifest"), expected);
}
