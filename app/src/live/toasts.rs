//! The notifications at the corner of the page, as plain data (`components::toasts`
//! shows them). The list is drawn as a plain list — by position, not keyed (a keyed list's
//! code would be main-chunk code that every first visit downloads) — inside a live region.
//! So that no notification's text ever moves to another place, which a screen reader
//! would read out again, a notification that leaves is only hidden where it is; the list
//! is emptied once none is shown.

/// How many notifications are shown at once: never a wall of them.
pub const SHOWN_AT_MOST: usize = 4;

/// A notification shown at the corner of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub id: u64,
    pub ok: bool,
    pub text: String,
    pub link: Option<(String, String)>,
    /// False once it has been dismissed or has timed out.
    pub shown: bool,
}

/// The notifications in the order they came, the oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToastList(Vec<Toast>);

impl ToastList {
    /// Every notification still in place, shown or hidden, in the order they came.
    pub fn items(&self) -> &[Toast] {
        &self.0
    }

    /// Adds one at the end; the oldest still shown beyond `SHOWN_AT_MOST` are hidden.
    pub fn add(&mut self, id: u64, ok: bool, text: String, link: Option<(String, String)>) {
        self.0.push(Toast {
            id,
            ok,
            text,
            link,
            shown: true,
        });
        let mut extra = self
            .0
            .iter()
            .filter(|t| t.shown)
            .count()
            .saturating_sub(SHOWN_AT_MOST);
        for toast in self.0.iter_mut().filter(|t| t.shown) {
            if extra == 0 {
                break;
            }
            toast.shown = false;
            extra -= 1;
        }
    }

    /// Hides one (dismissed or timed out); when none is shown any more, the list empties.
    pub fn hide(&mut self, id: u64) {
        if let Some(toast) = self.0.iter_mut().find(|t| t.id == id) {
            toast.shown = false;
        }
        if self.0.iter().all(|t| !t.shown) {
            self.0.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(list: &ToastList) -> Vec<(&str, bool)> {
        list.items()
            .iter()
            .map(|t| (t.text.as_str(), t.shown))
            .collect()
    }

    fn add(list: &mut ToastList, id: u64) {
        list.add(id, true, format!("t{id}"), None);
    }

    #[test]
    fn a_notification_that_leaves_moves_no_other() {
        let mut list = ToastList::default();
        for id in 1..=3 {
            add(&mut list, id);
        }
        list.hide(1);
        // The second and third stay where they were: nothing is read out again.
        assert_eq!(texts(&list), [("t1", false), ("t2", true), ("t3", true)]);
        add(&mut list, 4);
        assert_eq!(
            texts(&list),
            [("t1", false), ("t2", true), ("t3", true), ("t4", true)]
        );
        list.hide(3);
        list.hide(2);
        assert_eq!(texts(&list)[3], ("t4", true));
        // Once none is shown, nothing is kept.
        list.hide(4);
        assert!(list.items().is_empty());
        // Hiding one that is gone already changes nothing.
        list.hide(4);
        assert!(list.items().is_empty());
    }

    #[test]
    fn never_more_than_four_are_shown() {
        let mut list = ToastList::default();
        for id in 1..=6 {
            add(&mut list, id);
        }
        let shown: Vec<_> = list
            .items()
            .iter()
            .filter(|t| t.shown)
            .map(|t| t.id)
            .collect();
        assert_eq!(shown, [3, 4, 5, 6]);
        // The oldest leave first and the rest keep their places.
        assert_eq!(list.items()[2].text, "t3");
    }

    #[test]
    fn a_late_timeout_does_not_hide_a_newer_one() {
        let mut list = ToastList::default();
        add(&mut list, 1);
        list.hide(1);
        add(&mut list, 2);
        // The first one's timer fires after it was dismissed and the list emptied.
        list.hide(1);
        assert_eq!(texts(&list), [("t2", true)]);
    }
}
