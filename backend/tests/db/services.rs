//! Services tested where their logic lives, without HTTP: a generation checked against
//! the catalogue and the person's library before anything is queued, bulk actions on
//! images, each id done or reported, and the gallery's cards read as the images are.

use backend::{
    db::{images, jobs, Db},
    db_test,
    services::{generations, images as image_service, ServiceError},
    testing,
};
use model::{
    BulkAction, BulkRequest, GenerationRequest, ImageCard, ImageFilter, ImageKind, ImageStatus,
    ProviderId,
};

fn request(prompt: &str) -> GenerationRequest {
    serde_json::from_value(serde_json::json!({ "prompt": prompt })).unwrap()
}

/// The field a refusal names, or the refusal itself when it is about no field.
fn refused_field(err: ServiceError) -> String {
    match err {
        ServiceError::Invalid(e) => e.field.to_owned(),
        other => format!("{other:?}"),
    }
}

/// A finished upload of `user_id`'s, straight into the table.
async fn stored_image(db: &Db, user_id: &str) -> String {
    let id = backend::new_id();
    let mut new = images::NewImage::new(
        id.clone(),
        user_id.to_owned(),
        ImageKind::Uploaded,
        ImageStatus::Completed,
    );
    new.storage_key = Some(format!("uploads/{user_id}/{id}.png"));
    new.mime_type = Some("image/png".into());
    images::insert(db, &new).await.unwrap();
    id
}

db_test!(a_generation_is_checked_before_anything_is_queued, |db| {
    let backend = testing::backend(db.clone());
    let ann = testing::principal(&backend, "ann@example.com").await;
    let bob = testing::principal(&backend, "bob@example.com").await;
    let opts = generations::Options::default();

    let mut cases: Vec<(GenerationRequest, &str)> = Vec::new();
    let mut r = request("a portrait");
    r.model = Some("dall-e-9".into());
    cases.push((r, "model"));
    let mut r = request("a portrait");
    r.size = Some("333x333".into());
    cases.push((r, "size"));
    cases.push((request("   "), "prompt"));
    let mut r = request("a portrait");
    r.n = Some(5);
    cases.push((r, "n"));
    let mut r = request("a portrait");
    r.quality = Some("hd".into());
    cases.push((r, "quality"));
    let mut r = request("a portrait");
    r.seed = Some(-1);
    cases.push((r, "seed"));
    // Bob's image is no reference for Ann.
    let bobs = stored_image(&db, &bob.caller.id).await;
    let mut r = request("a portrait");
    r.reference_image_ids = vec![bobs.clone()];
    cases.push((r, "reference_image_ids"));
    for (req, field) in cases {
        let err = generations::start(&backend, &ann, &req, &opts)
            .await
            .expect_err(field);
        assert_eq!(refused_field(err), field);
    }
    assert!(
        jobs::list_recent(&db, &ann.caller.id, 50)
            .await
            .unwrap()
            .is_empty(),
        "nothing was queued for a refused request"
    );

    // A good one: n images `pending`, one job each, on the built-in generator.
    let anns = stored_image(&db, &ann.caller.id).await;
    let mut r = request("  a portrait of Ann  ");
    r.n = Some(2);
    r.size = Some("256x256".into());
    r.reference_image_ids = vec![anns.clone(), anns.clone()];
    let queued = generations::start(&backend, &ann, &r, &opts).await.unwrap();
    assert_eq!(queued.len(), 2);
    for job in &queued {
        assert_eq!(job.status, ImageStatus::Pending);
        assert_eq!(job.provider, ProviderId::Builtin);
        assert_eq!(job.model, "portrait-1");
        let image = images::get(&db, &ann.caller.id, &job.image_id)
            .await
            .unwrap()
            .expect("its image");
        assert_eq!(image.status, ImageStatus::Pending);
        assert_eq!(image.kind, ImageKind::Generated);
        assert_eq!(image.prompt.as_deref(), Some("a portrait of Ann"));
        let params: serde_json::Value =
            serde_json::from_str(image.params.as_deref().unwrap()).unwrap();
        assert_eq!(params["size"], "256x256");
        assert_eq!(params["reference_image_ids"], serde_json::json!([anns]));
    }
    assert!(jobs::list_recent(&db, &bob.caller.id, 50)
        .await
        .unwrap()
        .is_empty());

    // An idempotency key: the same request answers the same jobs; another is refused.
    let keyed = generations::Options {
        idempotency_key: Some("retry-1".into()),
        ..Default::default()
    };
    let first = generations::start(&backend, &ann, &request("again"), &keyed)
        .await
        .unwrap();
    let second = generations::start(&backend, &ann, &request("again"), &keyed)
        .await
        .unwrap();
    assert_eq!(
        first.iter().map(|j| &j.id).collect::<Vec<_>>(),
        second.iter().map(|j| &j.id).collect::<Vec<_>>()
    );
    let err = generations::start(&backend, &ann, &request("something else"), &keyed)
        .await
        .expect_err("a key reused for another request");
    assert!(matches!(err, ServiceError::Conflict { .. }), "{err:?}");
    assert_eq!(
        jobs::list_recent(&db, &ann.caller.id, 50)
            .await
            .unwrap()
            .len(),
        3
    );
});

db_test!(bulk_actions_do_each_id_or_say_why_not, |db| {
    let backend = testing::backend(db.clone());
    let ann = testing::principal(&backend, "ann@example.com").await;
    let bob = testing::principal(&backend, "bob@example.com").await;
    let mine = stored_image(&db, &ann.caller.id).await;
    let also_mine = stored_image(&db, &ann.caller.id).await;
    let theirs = stored_image(&db, &bob.caller.id).await;

    let bulk = |action, ids: Vec<&str>| BulkRequest {
        action,
        ids: ids.into_iter().map(str::to_owned).collect(),
        collection_id: None,
    };
    let result = image_service::bulk(
        &backend,
        &ann,
        &bulk(
            BulkAction::Delete,
            vec![&mine, &theirs, "not-an-id", &mine, &also_mine],
        ),
    )
    .await
    .unwrap();
    let mut done = result.done.clone();
    done.sort();
    let mut expected = vec![mine.clone(), also_mine.clone()];
    expected.sort();
    assert_eq!(done, expected, "each of Ann's once, nothing of Bob's");
    let why = |id: &str| {
        result
            .failed
            .iter()
            .find(|f| f.id == id)
            .map(|f| f.message.clone())
    };
    assert_eq!(why("not-an-id").as_deref(), Some("That is not an id."));
    assert_eq!(
        why(&theirs).as_deref(),
        Some("That image does not exist, or it is not yours.")
    );
    assert_eq!(result.failed.len(), 2);
    let bobs = images::get(&db, &bob.caller.id, &theirs)
        .await
        .unwrap()
        .unwrap();
    assert!(bobs.deleted_at.is_none(), "Bob's image is untouched");

    // Deleting again: already in the trash. Restoring: back, once.
    let again = image_service::bulk(&backend, &ann, &bulk(BulkAction::Delete, vec![&mine]))
        .await
        .unwrap();
    assert!(again.done.is_empty());
    assert_eq!(again.failed[0].message, "It is already in the trash.");
    let restored = image_service::bulk(&backend, &ann, &bulk(BulkAction::Restore, vec![&mine]))
        .await
        .unwrap();
    assert_eq!(restored.done, vec![mine.clone()]);
    let image = images::get(&db, &ann.caller.id, &mine)
        .await
        .unwrap()
        .unwrap();
    assert!(image.deleted_at.is_none());

    // Limits: none, or too many.
    let err = image_service::bulk(&backend, &ann, &bulk(BulkAction::Delete, vec![]))
        .await
        .expect_err("no ids");
    assert_eq!(refused_field(err), "ids");
    let many: Vec<String> = (0..=image_service::MAX_BULK)
        .map(|_| backend::new_id())
        .collect();
    let err = image_service::bulk(
        &backend,
        &ann,
        &BulkRequest {
            action: BulkAction::Delete,
            ids: many,
            collection_id: None,
        },
    )
    .await
    .expect_err("too many ids");
    assert_eq!(refused_field(err), "ids");
});

// Schemathesis found it with two workers: an image moved into a collection that another
// request deleted between the check and the write was a 500. It is "not found" now.
db_test!(a_collection_deleted_after_the_check_is_not_found, |db| {
    let backend = testing::backend(db.clone());
    let ann = testing::principal(&backend, "ann@example.com").await;
    let image = stored_image(&db, &ann.caller.id).await;
    let patch = images::ImagePatch {
        collection_id: Some(Some(backend::new_id())),
        favorite: None,
        title: None,
    };
    let err = images::update(&db, &ann.caller.id, &image, &patch)
        .await
        .expect_err("no such collection");
    assert!(
        matches!(ServiceError::from(err), ServiceError::NotFound),
        "a foreign key to a row that is gone reads as not found"
    );
    let unchanged = images::get(&db, &ann.caller.id, &image)
        .await
        .unwrap()
        .unwrap();
    assert!(unchanged.collection_id.is_none());
});

db_test!(
    cards_are_the_images_they_list_read_from_fewer_columns,
    |db| {
        let backend = testing::backend(db.clone());
        let ann = testing::principal(&backend, "ann@example.com").await;
        let bob = testing::principal(&backend, "bob@example.com").await;
        // A generated image with everything a card leaves out (parameters, seed, checksum,
        // revised prompt…) and everything it keeps, uploads, a favourite, one in the trash and
        // one of Bob's.
        let favourite = stored_image(&db, &ann.caller.id).await;
        let patch = images::ImagePatch {
            favorite: Some(true),
            ..images::ImagePatch::default()
        };
        images::update(&db, &ann.caller.id, &favourite, &patch)
            .await
            .unwrap();
        let id = backend::new_id();
        let mut generated = images::NewImage::new(
            id.clone(),
            ann.caller.id.clone(),
            ImageKind::Generated,
            ImageStatus::Completed,
        );
        generated.title = Some("Ann \"<b>\" à la plage".into());
        generated.prompt = Some("a portrait by the sea".into());
        generated.provider = Some("builtin".into());
        generated.model = Some("builtin-1".into());
        generated.params = Some(r#"{"size":"1024x1024","n":1}"#.into());
        generated.seed = Some(42);
        generated.parent_id = Some(favourite.clone());
        generated.width = Some(1024);
        generated.height = Some(768);
        generated.mime_type = Some("image/png".into());
        generated.bytes = Some(123_456);
        generated.sha256 = Some("ab".repeat(32));
        generated.storage_key = Some(format!("generated/{}/{id}.png", ann.caller.id));
        images::insert(&db, &generated).await.unwrap();
        let trashed = stored_image(&db, &ann.caller.id).await;
        let trash = BulkRequest {
            action: BulkAction::Delete,
            ids: vec![trashed.clone()],
            collection_id: None,
        };
        image_service::bulk(&backend, &ann, &trash).await.unwrap();
        stored_image(&db, &ann.caller.id).await;
        stored_image(&db, &bob.caller.id).await;

        let filters = [
            ImageFilter::default(),
            ImageFilter {
                favorite: Some(true),
                ..ImageFilter::default()
            },
            ImageFilter {
                trashed: Some(true),
                ..ImageFilter::default()
            },
            ImageFilter {
                q: Some("PORTRAIT".into()),
                ..ImageFilter::default()
            },
            ImageFilter {
                kind: Some(ImageKind::Uploaded),
                limit: Some(1),
                ..ImageFilter::default()
            },
        ];
        let mut seen = 0;
        for mut filter in filters {
            // Every page of the filter, following the cursor.
            loop {
                let images = image_service::list(&backend, &ann, &filter).await.unwrap();
                let cards = image_service::list_cards(&backend, &ann, &filter)
                    .await
                    .unwrap();
                let expected: Vec<ImageCard> =
                    images.items.into_iter().map(ImageCard::from).collect();
                assert_eq!(cards.items, expected, "{filter:?}");
                assert_eq!(cards.next_cursor, images.next_cursor, "{filter:?}");
                seen += cards.items.len();
                match cards.next_cursor {
                    Some(next) => filter.cursor = Some(next),
                    None => break,
                }
            }
        }
        // Ann's 3 outside the trash, 1 favourite, 1 in the trash, 1 portrait, 2 uploads a page
        // at a time: nothing compared was empty.
        assert_eq!(seen, 3 + 1 + 1 + 1 + 2);
        let all = image_service::list_cards(&backend, &ann, &ImageFilter::default())
            .await
            .unwrap();
        let card = all.items.iter().find(|c| c.id == id).unwrap();
        assert_eq!(card.title.as_deref(), Some("Ann \"<b>\" à la plage"));
        assert_eq!(
            (card.width, card.height, card.bytes),
            (Some(1024), Some(768), Some(123_456))
        );
        assert_eq!(card.parent_id.as_ref(), Some(&favourite));

        // Filters are checked as for the images.
        let bad = ImageFilter {
            limit: Some(100_000),
            ..ImageFilter::default()
        };
        assert!(image_service::list_cards(&backend, &ann, &bad)
            .await
            .is_err());
    }
);
