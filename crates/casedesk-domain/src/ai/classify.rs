//! Categorizing a case: a logistic-regression classifier trained on an organization's own categorized
//! cases, keyword rules for what no organization has taught it yet, and the urgency rules that
//! suggest a priority.

use std::collections::HashMap;

use serde::Serialize;

use crate::case::Priority;
use crate::search::fold;

use super::Guess;
use super::text::words;

/// Fewest labelled examples (in at least two classes) before a trained model is trusted.
pub const MIN_TRAINING_EXAMPLES: usize = 10;

/// The features of a case's text: its meaningful words and pairs of neighbouring words, the
/// subject's counted twice (it is the densest statement of what the case is about).
pub fn features(subject: &str, body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let subject = words(subject);
    for _ in 0..2 {
        push_grams(&mut out, &subject);
    }
    push_grams(&mut out, &words(body));
    out
}

fn push_grams(out: &mut Vec<String>, ws: &[String]) {
    out.extend(ws.iter().cloned());
    out.extend(ws.windows(2).map(|p| format!("{} {}", p[0], p[1])));
}

/// A multinomial logistic regression over [`features`], each case a vector of log-scaled,
/// IDF-weighted feature counts of unit length. Trained by stochastic gradient descent in a fixed
/// order, so the same cases always teach the same model.
#[derive(Debug, Clone)]
pub struct Classifier {
    labels: Vec<String>,
    /// Feature → (column, inverse document frequency).
    vocabulary: HashMap<String, (usize, f64)>,
    /// One row of weights per label, the last column the bias.
    weights: Vec<Vec<f64>>,
}

/// Most features kept (the ones in most cases).
const MAX_VOCABULARY: usize = 30_000;
// Chosen by ten-fold cross-validation on the evaluation set (eval/ai), not on its held-out part.
const EPOCHS: usize = 20;
const LEARNING_RATE: f64 = 2.0;
const DECAY: f64 = 0.2;
const L2: f64 = 1e-5;

impl Classifier {
    /// Trains on (features, label) pairs; `None` with fewer than [`MIN_TRAINING_EXAMPLES`]
    /// examples or a single label, when rules do better.
    pub fn train<I, L>(examples: I) -> Option<Self>
    where
        I: IntoIterator<Item = (Vec<String>, L)>,
        L: Into<String>,
    {
        let examples: Vec<(Vec<String>, String)> = examples.into_iter().map(|(f, l)| (f, l.into())).collect();
        let mut labels: Vec<String> = examples.iter().map(|(_, l)| l.clone()).collect();
        labels.sort();
        labels.dedup();
        if examples.len() < MIN_TRAINING_EXAMPLES || labels.len() < 2 {
            return None;
        }
        let mut df: HashMap<&str, usize> = HashMap::new();
        for (f, _) in &examples {
            let mut seen: Vec<&str> = f.iter().map(String::as_str).collect();
            seen.sort_unstable();
            seen.dedup();
            for w in seen {
                *df.entry(w).or_default() += 1;
            }
        }
        let mut kept: Vec<(&str, usize)> = df.into_iter().collect();
        kept.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        kept.truncate(MAX_VOCABULARY);
        let n = examples.len() as f64;
        let vocabulary: HashMap<String, (usize, f64)> =
            kept.iter().enumerate().map(|(i, (w, d))| (w.to_string(), (i, (1.0 + n / *d as f64).ln()))).collect();
        let mut model = Classifier { weights: vec![vec![0.0; vocabulary.len() + 1]; labels.len()], labels, vocabulary };
        let data: Vec<(Vec<(usize, f64)>, usize)> = examples
            .iter()
            .map(|(f, l)| (model.vector(f), model.labels.iter().position(|x| x == l).unwrap_or(0)))
            .collect();
        // Cases in a shuffled order, new each epoch but the same every time the model is
        // trained, so the same cases always teach the same model.
        let bias = model.vocabulary.len();
        let mut order: Vec<usize> = (0..data.len()).collect();
        let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
        for epoch in 0..EPOCHS {
            for i in (1..order.len()).rev() {
                let j = (splitmix(&mut seed) % (i as u64 + 1)) as usize;
                order.swap(i, j);
            }
            let rate = LEARNING_RATE / (1.0 + DECAY * epoch as f64);
            for &k in &order {
                let (x, y) = &data[k];
                let p = model.probabilities(x);
                for (c, row) in model.weights.iter_mut().enumerate() {
                    let g = p[c] - if c == *y { 1.0 } else { 0.0 };
                    for (i, v) in x {
                        row[*i] -= rate * (g * v + L2 * row[*i]);
                    }
                    row[bias] -= rate * g;
                }
            }
        }
        Some(model)
    }

    /// A case's features as a sparse unit vector.
    fn vector(&self, features: &[String]) -> Vec<(usize, f64)> {
        let mut tf: HashMap<usize, (f64, f64)> = HashMap::new();
        for f in features {
            if let Some((i, idf)) = self.vocabulary.get(f) {
                tf.entry(*i).or_insert((0.0, *idf)).0 += 1.0;
            }
        }
        let mut x: Vec<(usize, f64)> = tf.into_iter().map(|(i, (n, idf))| (i, (1.0 + n).ln() * idf)).collect();
        let norm = x.iter().map(|(_, v)| v * v).sum::<f64>().sqrt();
        if norm > 0.0 {
            for (_, v) in &mut x {
                *v /= norm;
            }
        }
        x.sort_unstable_by_key(|(i, _)| *i);
        x
    }

    fn probabilities(&self, x: &[(usize, f64)]) -> Vec<f64> {
        let bias = self.vocabulary.len();
        let scores: Vec<f64> =
            self.weights.iter().map(|row| row[bias] + x.iter().map(|(i, v)| row[*i] * v).sum::<f64>()).collect();
        softmax(&scores, 1.0)
    }

    /// Every label with its probability, most likely first.
    pub fn predict(&self, features: &[String]) -> Vec<(String, f64)> {
        let p = self.probabilities(&self.vector(features));
        let mut out: Vec<(String, f64)> = self.labels.iter().cloned().zip(p).collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        out
    }
}

/// The next number of a SplitMix64 sequence: a fixed, portable pseudo-random order.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn softmax(scores: &[f64], temperature: f64) -> Vec<f64> {
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = scores.iter().map(|s| ((s - max) / temperature).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.iter().map(|e| e / sum).collect()
}

/// The built-in topics and the phrases that point to each, for an organization that has not
/// categorized enough cases to learn from.
pub const TOPICS: &[(&str, &[&str])] = &[
    (
        "billing",
        &[
            "invoice",
            "billing",
            "billed",
            "charge",
            "charged",
            "payment",
            "card",
            "vat",
            "receipt",
            "overcharged",
            "price",
            "pricing",
            "fee",
            "subscription fee",
            "direct debit",
            "bank statement",
        ],
    ),
    (
        "shipping_damage",
        &[
            "damaged",
            "broken",
            "crushed",
            "cracked",
            "dented",
            "shattered",
            "smashed",
            "scratched",
            "torn",
            "leaking",
            "arrived broken",
            "box was",
        ],
    ),
    (
        "delivery_delay",
        &[
            "late",
            "delayed",
            "delay",
            "not arrived",
            "hasn t arrived",
            "has not arrived",
            "not received",
            "tracking",
            "where is my",
            "still waiting",
            "courier",
            "eta",
            "delivery date",
            "in transit",
            "lost parcel",
        ],
    ),
    (
        "login_problem",
        &[
            "login",
            "log in",
            "logging in",
            "sign in",
            "password",
            "locked out",
            "2fa",
            "two factor",
            "reset link",
            "authentication",
            "verification code",
            "otp",
            "account locked",
            "can t access",
        ],
    ),
    (
        "bug_report",
        &[
            "error",
            "crash",
            "crashes",
            "bug",
            "exception",
            "doesn t work",
            "not working",
            "fails",
            "glitch",
            "freezes",
            "500",
            "stack trace",
            "blank page",
        ],
    ),
    (
        "feature_request",
        &[
            "feature",
            "would be nice",
            "would be great",
            "suggest",
            "suggestion",
            "could you add",
            "please add",
            "wish",
            "roadmap",
            "integration with",
            "support for",
        ],
    ),
    (
        "cancellation",
        &[
            "cancel",
            "cancellation",
            "terminate",
            "close my account",
            "unsubscribe",
            "end my subscription",
            "stop my subscription",
            "opt out",
        ],
    ),
    (
        "complaint",
        &[
            "unacceptable",
            "disappointed",
            "terrible",
            "rude",
            "worst",
            "complaint",
            "complain",
            "appalling",
            "manager",
            "disgusted",
            "never again",
        ],
    ),
    (
        "refund_request",
        &[
            "refund",
            "money back",
            "reimburse",
            "reimbursement",
            "chargeback",
            "return label",
            "credit back",
            "refunded",
        ],
    ),
    (
        "account_change",
        &[
            "change my email",
            "update my address",
            "change the email",
            "rename",
            "add a user",
            "remove a user",
            "transfer ownership",
            "change my plan",
            "upgrade",
            "downgrade",
            "update billing address",
            "change name",
        ],
    ),
];

/// The built-in topic the keyword rules find most evidence of, with the share of the evidence
/// it has; `None` when no rule matches.
pub fn topic(subject: &str, body: &str) -> Option<(&'static str, f64)> {
    let text = format!(" {} {} {} ", fold(subject), fold(subject), fold(body));
    let mut scores: Vec<(&'static str, f64)> = TOPICS
        .iter()
        .map(|(name, phrases)| {
            let hits: usize = phrases.iter().map(|p| text.matches(&format!(" {} ", fold(p))).count()).sum();
            (*name, hits as f64)
        })
        .filter(|(_, s)| *s > 0.0)
        .collect();
    let total: f64 = scores.iter().map(|(_, s)| s).sum();
    scores.sort_by(|a, b| b.1.total_cmp(&a.1));
    scores.first().map(|(name, s)| (*name, s / total))
}

/// Phrases that make a case more urgent, by the priority they point to.
const URGENCY: &[(Priority, &[&str])] = &[
    (
        Priority::Critical,
        &[
            "outage",
            "all users",
            "everyone",
            "whole team",
            "production",
            "data loss",
            "security",
            "breach",
            "hacked",
            "fraud",
            "lawsuit",
            "legal action",
            "lawyer",
            "down for",
            "completely down",
        ],
    ),
    (
        Priority::High,
        &[
            "urgent",
            "urgently",
            "asap",
            "immediately",
            "right away",
            "cannot work",
            "can t work",
            "blocked",
            "charged twice",
            "double charged",
            "deadline",
            "today",
            "unacceptable",
            "escalate",
            "still not",
            "third time",
        ],
    ),
    (
        Priority::Low,
        &[
            "question",
            "wondering",
            "suggestion",
            "feature",
            "would be nice",
            "when you have time",
            "curious",
            "minor",
            "no rush",
            "just wanted",
        ],
    ),
];

/// The priority the wording of a case suggests, with a confidence; medium when nothing stands
/// out.
pub fn rule_priority(subject: &str, body: &str) -> (Priority, f64) {
    let text = format!(" {} {} ", fold(subject), fold(body));
    for (priority, phrases) in URGENCY {
        let hits = phrases.iter().filter(|p| text.contains(&format!(" {} ", fold(p)))).count();
        if hits > 0 {
            return (*priority, (0.5 + 0.15 * hits as f64).min(0.9));
        }
    }
    (Priority::Medium, 0.4)
}

/// What an organization's cases teach: a category model (labels are category ids) and a
/// priority model.
#[derive(Debug, Clone, Default)]
pub struct Models {
    pub category: Option<Classifier>,
    pub priority: Option<Classifier>,
    /// How many categorized cases the category model learned from.
    pub learned_from: usize,
}

impl Models {
    /// Learns from `(subject, body, category id, priority)` examples.
    pub fn train<'a>(examples: impl IntoIterator<Item = (&'a str, &'a str, Option<&'a str>, Priority)>) -> Models {
        let mut by_category = Vec::new();
        let mut by_priority = Vec::new();
        for (subject, body, category, priority) in examples {
            let f = features(subject, body);
            if let Some(c) = category {
                by_category.push((f.clone(), c.to_string()));
            }
            by_priority.push((f, priority.as_str().to_string()));
        }
        let learned_from = by_category.len();
        Models { category: Classifier::train(by_category), priority: Classifier::train(by_priority), learned_from }
    }
}

/// A category of the organization, as a suggestion names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Categorization {
    /// The organization's category the case most likely belongs to (none if it has none).
    pub category: Option<Guess<CategoryRef>>,
    /// The next likeliest categories.
    pub alternatives: Vec<Guess<CategoryRef>>,
    /// The built-in topic the wording points to.
    pub topic: Option<Guess<&'static str>>,
    pub priority: Guess<&'static str>,
    /// How many of the organization's categorized cases the suggestion learned from (0: keyword
    /// rules only).
    pub learned_from: usize,
}

/// Categorizes a case's text with what the organization's cases taught (`models`), falling back
/// to keyword rules matched to the categories by name.
pub fn categorize(subject: &str, body: &str, models: &Models, categories: &[CategoryRef]) -> Categorization {
    let f = features(subject, body);
    let topic = topic(subject, body);
    let mut ranked: Vec<Guess<CategoryRef>> = match &models.category {
        Some(model) => model
            .predict(&f)
            .into_iter()
            .filter_map(|(id, p)| categories.iter().find(|c| c.id == id).map(|c| Guess::new(c.clone(), p)))
            .collect(),
        None => Vec::new(),
    };
    if ranked.is_empty()
        && let Some((name, confidence)) = topic
    {
        // "shipping_damage" fits a category called "Damaged in shipping".
        let topic_words: Vec<&str> = name.split('_').collect();
        let best = categories
            .iter()
            .map(|c| {
                let cw = words(&c.name);
                let hits =
                    topic_words.iter().filter(|t| cw.iter().any(|w| w.starts_with(&t[..t.len().min(5)]))).count();
                (c, hits)
            })
            .filter(|(_, hits)| *hits > 0)
            .max_by_key(|(_, hits)| *hits);
        if let Some((c, _)) = best {
            ranked.push(Guess::new(c.clone(), confidence * 0.6));
        }
    }
    let category = if ranked.is_empty() { None } else { Some(ranked.remove(0)) };
    ranked.truncate(2);
    let priority = suggest_priority(subject, body, models.priority.as_ref(), &f);
    Categorization {
        category,
        alternatives: ranked,
        topic: topic.map(|(t, c)| Guess::new(t, c)),
        priority,
        learned_from: if models.category.is_some() { models.learned_from } else { 0 },
    }
}

/// The priority from the organization's history, nudged by the urgency of the wording.
fn suggest_priority(subject: &str, body: &str, model: Option<&Classifier>, f: &[String]) -> Guess<&'static str> {
    let (rule, rule_confidence) = rule_priority(subject, body);
    let Some(model) = model else { return Guess::new(rule.as_str(), rule_confidence) };
    let predicted = model.predict(f);
    let mut scores: Vec<(Priority, f64)> = Priority::ALL
        .iter()
        .map(|p| {
            let learned = predicted.iter().find(|(l, _)| l == p.as_str()).map_or(0.0, |(_, q)| *q);
            let nudge = if *p == rule && rule_confidence > 0.45 { rule_confidence } else { 0.0 };
            (*p, learned + nudge)
        })
        .collect();
    let total: f64 = scores.iter().map(|(_, s)| s).sum();
    scores.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (p, s) = scores[0];
    Guess::new(p.as_str(), if total > 0.0 { s / total } else { 0.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(subject: &str, label: &str) -> (Vec<String>, String) {
        (features(subject, ""), label.to_string())
    }

    #[test]
    fn a_trained_model_prefers_the_class_whose_words_it_saw() {
        let mut data = Vec::new();
        for s in [
            "invoice is wrong",
            "charged twice on my card",
            "vat missing on invoice",
            "refund of the fee",
            "payment failed",
        ] {
            data.push(ex(s, "billing"));
        }
        for s in [
            "cannot log in",
            "password reset link expired",
            "locked out of account",
            "2fa code not accepted",
            "login loops",
        ] {
            data.push(ex(s, "access"));
        }
        let model = Classifier::train(data).expect("enough examples");
        let p = model.predict(&features("my invoice shows the wrong vat", ""));
        assert_eq!(p[0].0, "billing");
        assert!(p[0].1 > 0.5 && p[0].1 < 1.0, "{p:?}");
        let p = model.predict(&features("password does not work, cannot log in", ""));
        assert_eq!(p[0].0, "access");
        let sum: f64 = p.iter().map(|x| x.1).sum();
        assert!((sum - 1.0).abs() < 1e-9);
    }

    #[test]
    fn categorizing_uses_what_the_org_taught_or_falls_back_to_rules() {
        let cats = vec![
            CategoryRef { id: "ccat_1".into(), name: "Money".into() },
            CategoryRef { id: "ccat_2".into(), name: "Damaged in shipping".into() },
        ];
        let rules_only = categorize("Box arrived crushed", "the mug is broken", &Models::default(), &cats);
        assert_eq!(rules_only.category.as_ref().map(|c| c.value.id.as_str()), Some("ccat_2"));
        assert_eq!(rules_only.topic.as_ref().map(|t| t.value), Some("shipping_damage"));
        assert_eq!(rules_only.learned_from, 0);
        let mut examples = Vec::new();
        for i in 0..6 {
            examples.push((format!("parcel {i} smashed"), "ccat_2", Priority::High));
            examples.push((format!("money question {i}"), "ccat_1", Priority::Low));
        }
        let models = Models::train(examples.iter().map(|(s, c, p)| (s.as_str(), "", Some(*c), *p)));
        let taught = categorize("another money question", "", &models, &cats);
        assert_eq!(taught.category.as_ref().map(|c| c.value.name.as_str()), Some("Money"));
        assert_eq!(taught.alternatives.len(), 1);
        assert_eq!(taught.priority.value, "low");
        assert_eq!(taught.learned_from, 12);
    }

    #[test]
    fn too_little_or_one_sided_training_gives_no_model() {
        assert!(Classifier::train((0..3).map(|_| ex("a b", "x"))).is_none());
        assert!(Classifier::train((0..20).map(|_| ex("a b", "x"))).is_none());
    }

    #[test]
    fn rules_find_topics_and_urgency() {
        assert_eq!(topic("Box arrived crushed", "the vase inside is broken").map(|t| t.0), Some("shipping_damage"));
        assert_eq!(
            topic("Where is my parcel?", "tracking shows no update, still waiting").map(|t| t.0),
            Some("delivery_delay")
        );
        assert_eq!(topic("hello", "nothing to see"), None);
        assert_eq!(rule_priority("Production outage", "all users are down").0, Priority::Critical);
        assert_eq!(rule_priority("Charged twice", "please fix asap").0, Priority::High);
        assert_eq!(rule_priority("Feature idea", "would be nice to have dark mode").0, Priority::Low);
        assert_eq!(rule_priority("Order", "where is it").0, Priority::Medium);
    }
}
