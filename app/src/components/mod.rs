//! Pieces of the layout and forms shared by every page.

mod confirm;
mod edit_form;
mod focus;
mod form;
mod handler;
mod header;
mod identity;
mod job_card;
mod layout;
mod model_select;
mod notice;
pub(crate) mod picture;
mod placeholder;
mod post_form;
mod show_when;
pub mod spend;
mod upload;
mod usage;

pub use confirm::ConfirmButton;
pub use edit_form::EditForm;
pub use focus::{focus_selector, trap_tab};
pub use form::{field_error, form_error, succeeded, Field, FormError};
pub use handler::handler;
pub use header::{Header, SECTIONS};
pub use identity::{
    pending_link_text, problem_notice, start_href, use_identity_providers, ProviderButtons,
};
pub use job_card::{CardChoices, JobCard};
pub use layout::{
    footer, notify_finished_jobs, provide_current_user, toasts, CurrentUser, PageHeader,
};
pub use model_select::{find_model, ModelOptions};
pub use notice::{Notice, NoticeLine};
pub use picture::{Avatar, Picture};
pub use placeholder::{EmptyState, Skeleton};
pub use post_form::{FormAction, PostForm};
pub use show_when::show_when;
pub use spend::{SpendCard, SpendPanel};
pub use upload::UploadPanel;
pub use usage::{meters, Meter, UsageMeters};
