//! Expert matching (lifecycle step 4): which vetted experts with free capacity
//! fit a project, best first, each with the breakdown of its score.

use std::cmp::Ordering;

use serde::Serialize;

use super::expert::{Expert, VettingState};
use super::ids::ContactId;
use super::project::Project;
use super::validation::Tag;

/// How much each part of the fit counts; skills matter more than industry.
const SKILL_WEIGHT: f64 = 0.7;
const INDUSTRY_WEIGHT: f64 = 0.3;

/// Why an expert ranks where they do.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ScoreBreakdown {
    /// Needed skills the expert has.
    pub skills_matched: Vec<Tag>,
    /// Needed skills the expert lacks.
    pub skills_missing: Vec<Tag>,
    /// Share of the needed skills covered, 0 to 1 (1 when the project names none).
    pub skill_overlap: f64,
    /// The expert knows the project's industry (true when it names none).
    pub industry_match: bool,
    /// 0.7 x skill overlap + 0.3 x industry match: the primary ranking key.
    pub fit: f64,
    /// Second key: higher rating first (unrated counts as 0).
    pub rating: Option<f64>,
    /// Third key: the lighter relative load first.
    pub load: u32,
    pub capacity: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Match {
    pub expert_id: ContactId,
    pub full_name: String,
    pub score: ScoreBreakdown,
}

/// Why an expert is left out of the ranking.
fn eligible(expert: &Expert, project: &Project, declined: &[ContactId]) -> bool {
    expert.profile.vetting == VettingState::Vetted
        && expert.profile.has_free_capacity(expert.load)
        && !declined.contains(&expert.contact.id)
        && project.expert_id != Some(expert.contact.id)
}

fn breakdown(expert: &Expert, project: &Project) -> ScoreBreakdown {
    let (matched, missing): (Vec<Tag>, Vec<Tag>) = project
        .skills
        .iter()
        .cloned()
        .partition(|s| expert.profile.skills.contains(s));
    let skill_overlap = if project.skills.is_empty() {
        1.0
    } else {
        matched.len() as f64 / project.skills.len() as f64
    };
    let industry_match = project
        .industry
        .as_ref()
        .is_none_or(|i| expert.profile.industries.contains(i));
    let fit = SKILL_WEIGHT * skill_overlap + INDUSTRY_WEIGHT * f64::from(u8::from(industry_match));
    ScoreBreakdown {
        skills_matched: matched,
        skills_missing: missing,
        skill_overlap,
        industry_match,
        fit,
        rating: expert.profile.rating,
        load: expert.load,
        capacity: expert.profile.capacity,
    }
}

fn compare(a: &Match, b: &Match) -> Ordering {
    let (x, y) = (&a.score, &b.score);
    let relative_load = |s: &ScoreBreakdown| f64::from(s.load) / f64::from(s.capacity.max(1));
    y.fit
        .total_cmp(&x.fit)
        .then_with(|| y.rating.unwrap_or(0.0).total_cmp(&x.rating.unwrap_or(0.0)))
        .then_with(|| relative_load(x).total_cmp(&relative_load(y)))
        .then_with(|| a.full_name.cmp(&b.full_name))
        .then_with(|| a.expert_id.cmp(&b.expert_id))
}

/// Ranks the eligible experts for `project`: vetted, with free capacity, and
/// not among those who declined it.
pub fn rank(project: &Project, experts: &[Expert], declined: &[ContactId]) -> Vec<Match> {
    let mut matches: Vec<Match> = experts
        .iter()
        .filter(|e| eligible(e, project, declined))
        .map(|e| Match {
            expert_id: e.contact.id,
            full_name: e.contact.full_name.clone(),
            score: breakdown(e, project),
        })
        .collect();
    matches.sort_by(compare);
    matches
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::contact::{Contact, ContactKind, Email};
    use crate::domain::expert::ExpertProfile;
    use crate::domain::ids::ProjectId;
    use crate::domain::lifecycle::ProjectState;
    use time::OffsetDateTime;

    fn tags(v: &[&str]) -> Vec<Tag> {
        v.iter().map(|s| Tag::parse("t", s).unwrap()).collect()
    }

    fn expert(
        name: &str,
        skills: &[&str],
        industries: &[&str],
        rating: Option<f64>,
        load: u32,
        vetting: VettingState,
    ) -> Expert {
        let now = OffsetDateTime::UNIX_EPOCH;
        Expert {
            contact: Contact {
                id: ContactId::new(),
                kind: ContactKind::Expert,
                full_name: name.into(),
                email: Email::parse(&format!("{}@x.pl", name.to_lowercase())).unwrap(),
                phone: None,
                legal_name: None,
                tax_id: None,
                properties: Default::default(),
                crm_ref: None,
                atlassian_account_id: None,
                created_at: now,
                updated_at: now,
            },
            profile: ExpertProfile {
                skills: tags(skills),
                industries: tags(industries),
                languages: vec![],
                hourly_rate: 100.0,
                capacity: 2,
                rating,
                vetting,
            },
            load,
        }
    }

    fn project(skills: &[&str], industry: Option<&str>) -> Project {
        let now = OffsetDateTime::UNIX_EPOCH;
        Project {
            id: ProjectId::new(),
            client_id: ContactId::new(),
            title: "t".into(),
            spec: "s".into(),
            skills: tags(skills),
            industry: industry.map(|i| Tag::parse("i", i).unwrap()),
            required_documents: vec![],
            state: ProjectState::Matching,
            expert_id: None,
            baseline: None,
            outcome: None,
            intake: Default::default(),
            tracker_ref: None,
            task_ref: None,
            board_ref: None,
            crm_ref: None,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn experts_rank_by_fit_then_rating_then_load() {
        let p = project(&["rust", "sql"], Some("retail"));
        let full = expert(
            "Full",
            &["rust", "sql"],
            &["retail"],
            Some(3.0),
            0,
            VettingState::Vetted,
        );
        let half = expert(
            "Half",
            &["rust"],
            &["retail"],
            Some(5.0),
            0,
            VettingState::Vetted,
        );
        let full_better_rated = expert(
            "Star",
            &["rust", "sql"],
            &["retail"],
            Some(4.9),
            1,
            VettingState::Vetted,
        );
        let full_busy = expert(
            "Busy",
            &["rust", "sql"],
            &["retail"],
            Some(3.0),
            1,
            VettingState::Vetted,
        );
        let ranked = rank(&p, &[half.clone(), full_busy, full, full_better_rated], &[]);
        let names: Vec<&str> = ranked.iter().map(|m| m.full_name.as_str()).collect();
        assert_eq!(names, ["Star", "Full", "Busy", "Half"]);
        let half_score = &ranked[3].score;
        assert_eq!(half_score.skills_missing, tags(&["sql"]));
        assert_eq!(
            (half_score.skill_overlap, half_score.industry_match),
            (0.5, true)
        );
        assert!((half_score.fit - (0.7 * 0.5 + 0.3)).abs() < 1e-9);
    }

    #[test]
    fn unvetted_full_and_declining_experts_are_left_out() {
        let p = project(&["rust"], None);
        let applicant = expert("A", &["rust"], &[], None, 0, VettingState::Applicant);
        let suspended = expert("S", &["rust"], &[], None, 0, VettingState::Suspended);
        let full = expert("F", &["rust"], &[], None, 2, VettingState::Vetted);
        let declined = expert("D", &["rust"], &[], None, 0, VettingState::Vetted);
        let ok = expert("Ok", &[], &[], None, 0, VettingState::Vetted);
        let ranked = rank(
            &p,
            &[applicant, suspended, full, declined.clone(), ok],
            &[declined.contact.id],
        );
        assert_eq!(ranked.len(), 1);
        assert_eq!(
            (ranked[0].full_name.as_str(), ranked[0].score.skill_overlap),
            ("Ok", 0.0)
        );
        assert!(
            ranked[0].score.industry_match,
            "no industry asked for counts as a match"
        );
    }
}
